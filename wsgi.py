from invites import create_app

app = create_app()
