"""The `branchbot` command line."""


def main() -> None:
    from bot.cli.main import app

    app()
