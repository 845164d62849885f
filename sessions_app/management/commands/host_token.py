"""manage.py host_token USERNAME [--label L]: mint an API token for a host's WebSocket clients."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from quizzes_app.hosts import host_ensure
from sessions_app.auth import host_token_create


class Command(BaseCommand):
    help = "Create a host API token (the host is created if missing). The token is the last output line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", metavar="USERNAME")
        parser.add_argument("--label", default="", help="a note to recognise the token by in the admin")

    def handle(self, *args, username: str, label: str, **options) -> None:
        user = host_ensure(username=username)
        token = host_token_create(user=user, label=label)
        self.stdout.write(
            f"Host token for {user.get_username()}. It is shown only once; "
            "revoke it in the admin under Host tokens."
        )
        self.stdout.write(token)
