"""Logged-in browsers for the tests that need an operator but not the demo shop."""

from django.contrib.auth.models import Permission, User
from django.test import Client


def operator_client(username: str = "op") -> Client:
    """A browser logged in as a new operator (the console's permission only)."""
    user = User.objects.create_user(username, password="x")
    user.user_permissions.add(Permission.objects.get(codename="operate_console"))
    client = Client()
    client.force_login(user)
    return client
