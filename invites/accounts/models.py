from flask import current_app
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from invites.clock import now
from invites.extensions import db


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(120), nullable=False)
    # Stored lower-cased, like email: unique case-insensitively.
    username = db.Column(db.String(40), nullable=False, unique=True)
    # Stored lower-cased and trimmed: addresses are unique case-insensitively.
    email = db.Column(db.String(254), nullable=False, unique=True)
    password_hash = db.Column(db.String(255), nullable=False)
    email_verified_at = db.Column(db.DateTime)
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    def set_password(self, password):
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    @property
    def is_verified(self):
        return self.email_verified_at is not None

    def mark_verified(self):
        if self.email_verified_at is None:
            self.email_verified_at = now()

    def __repr__(self):
        return f"<User {self.username}>"
