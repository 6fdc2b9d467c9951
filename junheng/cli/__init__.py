"""The `junheng` command. Each command group lives in its own module and is added here."""

import typer

app = typer.Typer(
    name="junheng",
    help="均衡督办：县域义务教育优质均衡发展创建工作督办系统",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

from junheng.cli.standards import standards_app  # noqa: E402

app.add_typer(standards_app, name="standards")

from junheng.cli import template  # noqa: E402

app.command("template")(template.template)

from junheng.cli.assess import assess  # noqa: E402

app.command("assess")(assess)

from junheng.cli.calendar import calendar_app, count_on_store_calendar  # noqa: E402

app.add_typer(calendar_app, name="calendar")
app.callback()(count_on_store_calendar)  # every command counts working days on the store's calendar

from junheng.cli.dispatch import dispatch  # noqa: E402

app.command("dispatch")(dispatch)

from junheng.cli.campaign import campaign_app  # noqa: E402

app.add_typer(campaign_app, name="campaign")

from junheng.cli.status import status  # noqa: E402
from junheng.cli.task import task_app  # noqa: E402

campaign_app.command("status")(status)
app.add_typer(task_app, name="task")

from junheng.cli import data  # noqa: E402

app.add_typer(data.data_app, name="data")
app.command("selfcheck")(data.selfcheck_command)
app.command("reassess")(data.reassess_command)
app.add_typer(data.county_input_app, name="county-input")

from junheng.cli.review import review_app  # noqa: E402

app.add_typer(review_app, name="review")

from junheng.cli.export import export_app  # noqa: E402

app.add_typer(export_app, name="export")

from junheng.cli.mail import mail_app  # noqa: E402

app.add_typer(mail_app, name="mail")

from junheng.cli.scheduler import scheduler_command  # noqa: E402
from junheng.cli.sweep import sweep_command  # noqa: E402

app.command("sweep")(sweep_command)
app.command("scheduler")(scheduler_command)

from junheng.cli.serve import serve_command  # noqa: E402
from junheng.cli.user import user_app  # noqa: E402

app.add_typer(user_app, name="user")
app.command("serve")(serve_command)

from junheng.cli.demo import demo  # noqa: E402

app.command("demo")(demo)

from junheng.cli.briefing import briefing_app  # noqa: E402

app.add_typer(briefing_app, name="briefing")

from junheng.cli.backup import backup_command, restore_command  # noqa: E402

app.command("backup")(backup_command)
app.command("restore")(restore_command)
