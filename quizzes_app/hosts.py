"""Who counts as a host: an active staff user in the Hosts group, or a superuser."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission

HOSTS_GROUP = "Hosts"
HOST_PERMISSIONS = [
    ("quizzes_app", codename)
    for model in ("quiz", "question", "choice")
    for codename in (f"add_{model}", f"change_{model}", f"delete_{model}", f"view_{model}")
] + [("sessions_app", f"view_{model}") for model in ("gamesession", "player", "answer")]


def is_host(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """True for users who may run sessions and own quizzes."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.groups.filter(name=HOSTS_GROUP).exists()


def hosts_group() -> Group:
    """The Hosts group with its admin permissions, created on first use."""
    group, _ = Group.objects.get_or_create(name=HOSTS_GROUP)
    perms = [
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in HOST_PERMISSIONS
    ]
    group.permissions.add(*perms)
    return group


def host_ensure(*, username: str, password: str | None = None) -> AbstractBaseUser:
    """Return the host called username, creating it (staff, in Hosts) if missing."""
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
    if created:
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    elif not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    user.groups.add(hosts_group())
    return user
