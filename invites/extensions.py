"""Extensions are created here without an app and bound in ``create_app``."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event, orm
from sqlalchemy.engine import Engine

# Named constraints keep Alembic migrations portable between SQLite and PostgreSQL.
naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# For the type checker only; at run time these are Flask-SQLAlchemy's own.
if TYPE_CHECKING:
    from flask_sqlalchemy.model import Model as _FSAModel

    class _SQLAlchemy(SQLAlchemy):
        # What relationship() returns: SQLAlchemy 2's declarative relationship, so that
        # ``Model.attr`` is an attribute that loader options such as joinedload() accept.
        def relationship(self, *args: Any, **kwargs: Any) -> orm.Relationship[Any]: ...
else:
    _SQLAlchemy = SQLAlchemy

db = _SQLAlchemy(metadata=MetaData(naming_convention=naming_convention))
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
mail = Mail()
limiter = Limiter(key_func=get_remote_address)

if TYPE_CHECKING:
    class Model(_FSAModel, orm.DeclarativeBase):
        """``db.Model`` as the type checker sees it (it cannot follow a base class read
        from an object's attribute). Models subclass this; at run time it is db.Model."""
else:
    Model = db.Model


@event.listens_for(Engine, "connect")
def _sqlite_enforces_foreign_keys(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite ignores foreign keys (and so ON DELETE CASCADE) unless asked per connection."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
