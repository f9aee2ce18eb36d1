"""The ``civicgrid`` console script (also ``python -m web``): Flask's command group over
``create_app``, with the secured ``run`` (it needs a real secret key)."""

from __future__ import annotations

from flask.cli import FlaskGroup

from web import create_app
from web.cli.security import run_command

main = FlaskGroup(
    create_app=lambda: create_app(),
    add_default_commands=True,
    help="civicgrid — 文明城市创建网格化管理 / civilized-city grid management.",
)
main.add_command(run_command)  # replaces Flask's `run`: needs a secret key

if __name__ == "__main__":
    main()
