"""Django's database sessions, read by a query written once (stoat/core/prepared.py)."""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from stoat.core.prepared import RowByKey

SESSION_BY_KEY = RowByKey(Session, "session_key")


class SessionStore(db.SessionStore):
    """The same sessions in the same table; only the read on each request is cheaper."""

    def _get_session_from_db(self) -> Session | None:
        session = SESSION_BY_KEY.get(self.session_key) if self.session_key else None
        if session is None or session.expire_date <= timezone.now():
            # As Django's store does: an unknown or expired key is forgotten, a new one made.
            self._session_key = None
            return None
        return session
