"""Daily invitation-mail quotas, and no free-text invitation subject.

Security review F4: every invitation mail is counted per organization and per account
and day (``mail_quota_usage``), and the subject always names the inviter and the
organization in the platform's words, so the organization's custom subject is dropped.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'mail_quota_usage',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('sent', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_mail_quota_usage_org_id_organizations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mail_quota_usage_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_quota_usage')),
        sa.UniqueConstraint('org_id', 'user_id', 'day', name='uq_mail_quota_usage_org_user_day'),
    )
    op.create_index('ix_mail_quota_usage_user_day', 'mail_quota_usage', ['user_id', 'day'], unique=False)
    # Not in batch mode: on SQLite that copies the table, and dropping the old copy would
    # cascade to every table that references organizations. SQLite 3.35+ drops a column
    # in place, as PostgreSQL does.
    op.drop_column('organizations', 'invitation_subject')


def downgrade():
    op.add_column('organizations', sa.Column('invitation_subject', sa.String(length=200), server_default='', nullable=False))
    op.drop_index('ix_mail_quota_usage_user_day', table_name='mail_quota_usage')
    op.drop_table('mail_quota_usage')
