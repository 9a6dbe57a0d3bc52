"""Placeholder: this command group is being written."""

import click


def register(group: click.Group) -> None:
    return None
