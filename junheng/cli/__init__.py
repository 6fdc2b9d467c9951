"""The `junheng` command. Each command group lives in its own module and is added here."""

import typer

app = typer.Typer(
    name="junheng",
    help="均衡督办：县域义务教育优质均衡发展创建工作督办系统",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
