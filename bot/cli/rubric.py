"""`branchbot rubric …` — placeholder until the scoring engine lands."""

import typer

app = typer.Typer(help="Check and show scoring rubrics.", no_args_is_help=True)
