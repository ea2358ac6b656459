"""CSV exports of the Manage panels (issue 19, part 5): members, invitations (filtered as
the panel is), join requests and the activity log, streamed to whoever may see the panel."""
