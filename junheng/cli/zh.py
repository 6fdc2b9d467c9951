"""Click's and Typer's own words in Chinese: usage, help panels, defaults and usage errors.

Typer (0.29) carries its own copy of Click (``typer._click``) whose messages are plain English
f-strings, while Typer's rich help marks a few with ``gettext`` and builds constants from them at
import time. ``install()`` therefore works at three places: the ``gettext`` names (the table
``MESSAGES``), the usage line and the help option of ``typer._click``, and the error panel, whose
message is rewritten by the patterns in ``ERRORS`` just before it is printed. A message neither
covers stays English; tests/junheng/test_cli_help.py walks every command and fails on English prose.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import re
import sys
from types import ModuleType

# what typer.core and typer.rich_utils pass through gettext
MESSAGES: dict[str, str] = {
    "Options": "选项",
    "Arguments": "参数",
    "Commands": "命令",
    "[default: {}]": "[默认：{}]",
    "[env var: {}]": "[环境变量：{}]",
    "[required]": "[必填]",
    "(deprecated) ": "（已停用）",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "required": "必填",
    "(dynamic)": "（动态）",
    "Error": "错误",
    "Try [blue]'{command_path} {help_option}'[/] for help.": "运行「[blue]{command_path} {help_option}[/]」查看帮助。",
    "Aborted!": "已中止。",
    "Aborted.": "已中止。",
    "Missing command.": "缺少命令。",
}

USAGE_PREFIX = "用法："
# the value types Typer shows beside each option (<int>, <int range>, <Path> …)
TYPE_NAMES = {"str": "文本", "int": "整数", "float": "数值", "bool": "开关", "int range": "整数",
              "float range": "数值", "Path": "路径", "path": "路径", "file": "文件", "dir": "目录",
              "directory": "目录", "datetime": "时间", "date": "日期"}
HELP_OPTION_TEXT = "显示本帮助并退出。"

# Usage errors as typer._click, Typer and pydantic word them → Chinese; the first pattern that
# matches the whole message wins, and "{g1}" etc. are its groups (a group named "msg" is
# translated again: "Invalid value for X: <another message>").
ERRORS: list[tuple[str, str]] = [
    (r"(?P<msg>No such command '.*?')\.?\s*Did you mean (.+)\?", "{msg}是否想用 {g2}？"),
    (r"No such command '(.*?)'\.?", "没有命令 '{g1}'。"),
    (r"No such option: (\S+) \(Possible options: (.+)\)", "没有选项 {g1}（可能是：{g2}）。"),
    (r"No such option: (\S+)", "没有选项 {g1}。"),
    (r"Missing option (.+?)\. (?P<msg>.+)", "缺少选项 {g1}。{msg}"),
    (r"Missing option (.+?)\.", "缺少选项 {g1}。"),
    (r"Missing argument (.+?)\. (?P<msg>.+)", "缺少参数 {g1}。{msg}"),
    (r"Missing argument (.+?)\.", "缺少参数 {g1}。"),
    (r"Missing parameter:? ?(.*?)\.?", "缺少参数 {g1}。"),
    (r"Missing command\.", "缺少命令。"),
    (r"Got unexpected extra arguments? ?\(?s?\)? \((.+)\)", "多余的参数：{g1}"),
    (r"Got unexpected extra argument\(s\) \((.+)\)", "多余的参数：{g1}"),
    (r"Option '(.+?)' requires an argument\.", "选项 '{g1}' 需要一个取值。"),
    (r"Option '(.+?)' requires (\d+) arguments\.", "选项 '{g1}' 需要 {g2} 个取值。"),
    (r"Option '(.+?)' does not take a value\.", "选项 '{g1}' 不接受取值。"),
    (r"Argument '(.+?)' takes (\d+) values\.", "参数 '{g1}' 需要 {g2} 个取值。"),
    (r"Invalid value for (.+?): (?P<msg>.+)", "{g1} 的取值无效：{msg}"),
    (r"Invalid value: (?P<msg>.+)", "取值无效：{msg}"),
    (r"Value (.+) is not a valid (\w+)\.", "{g1} 不是有效的{g2}。"),
    (r"(.+) is not one of (.+)\.", "{g1} 不是可选值之一（可选：{g2}）。"),
    (r"(.+) is not in the range (.+)\.", "{g1} 不在范围 {g2} 内。"),
    (r"(.+) does not match the formats? (.+)\.", "{g1} 不符合格式 {g2}。"),
    (r"(\w+) (.+) does not exist\.", "{g1} {g2} 不存在。"),
    (r"(\w+) (.+) is a file\.", "{g1} {g2} 是文件，这里需要目录。"),
    (r"(\w+) (.+) is a directory\.", "{g1} {g2} 是目录，这里需要文件。"),
    (r"(\w+) (.+) is not readable\.", "{g1} {g2} 不可读。"),
    (r"(\w+) (.+) is not writable\.", "{g1} {g2} 不可写。"),
    (r"(\d+) values are required, but (\d+) given\.", "需要 {g1} 个取值，给了 {g2} 个。"),
    # pydantic (Typer converts values with TypeAdapters)
    (r"Input should be a valid integer.*", "应为整数。"),
    (r"Input should be a valid number.*", "应为数字。"),
    (r"Input should be a valid boolean.*", "应为是或否（true/false）。"),
    (r"Input should be a valid date.*", "应为日期（YYYY-MM-DD）。"),
    (r"Input should be a valid datetime.*", "应为时间（YYYY-MM-DDTHH:MM）。"),
    (r"Input should be greater than or equal to (.+)", "应不小于 {g1}。"),
    (r"Input should be less than or equal to (.+)", "应不大于 {g1}。"),
    (r"Input should be greater than (.+)", "应大于 {g1}。"),
    (r"Input should be less than (.+)", "应小于 {g1}。"),
]
_ERRORS = [(re.compile(pattern, re.DOTALL), template) for pattern, template in ERRORS]
# the words Click puts into its messages
WORDS = {"integer": "整数", "float": "数", "int": "整数", "Path": "路径", "File": "文件",
         "Directory": "目录", "path": "路径", "file": "文件", "directory": "目录", "bool": "是否",
         "date": "日期", "datetime": "时间", "option": "选项", "argument": "参数"}


def translate_error(message: str) -> str:
    """A usage error in Chinese (unchanged when no pattern knows it)."""
    text = message.strip()
    for pattern, template in _ERRORS:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        groups = {f"g{i}": WORDS.get(g, g) if g is not None else "" for i, g in enumerate(match.groups(), 1)}
        for name, value in match.groupdict().items():
            groups[name] = translate_error(value) if name == "msg" and value else (WORDS.get(value, value) or "")
        return template.format(**groups)
    return message


def gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def install() -> None:
    """Translate Click's and Typer's messages from now on (idempotent).

    typer.rich_utils (rich's Markdown, Syntax and traceback come with it: about a second of CPU
    on a busy machine) is only imported by Typer when it prints help or an error; it is
    translated then, not imported here."""
    import typer.core
    from typer._click import decorators, formatting

    typer.core._ = gettext
    if not getattr(typer.core._TyperParameter.display_type, "junheng", False):
        display_type = typer.core._TyperParameter.display_type

        def display_type_zh(self, ctx) -> str:
            text = display_type(self, ctx)
            inner = text[1:-1] if text.startswith("<") and text.endswith(">") else None
            if inner and inner.startswith("list[") and inner.endswith("]"):  # a repeatable option or arguments
                element = inner[5:-1]
                return f"<{TYPE_NAMES.get(element, element)}…>"
            return f"<{TYPE_NAMES[inner]}>" if inner in TYPE_NAMES else text

        display_type_zh.junheng = True
        typer.core._TyperParameter.display_type = display_type_zh
    if "typer.rich_utils" in sys.modules:
        _translate_rich_utils(sys.modules["typer.rich_utils"])
    elif not any(isinstance(finder, _RichUtilsFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _RichUtilsFinder())
    if getattr(formatting.HelpFormatter.write_usage, "junheng", False):
        return

    write_usage = formatting.HelpFormatter.write_usage

    def write_usage_zh(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        args = args.replace("[OPTIONS]", "[选项]").replace("COMMAND [ARGS]...", "命令 [参数]...")
        write_usage(self, prog, args, USAGE_PREFIX if prefix is None else prefix)

    write_usage_zh.junheng = True
    formatting.HelpFormatter.write_usage = write_usage_zh

    help_option = decorators.help_option

    def help_option_zh(param_decls: list[str]):
        add = help_option(param_decls)

        def decorator(command):
            command = add(command)
            command.params[-1].help = HELP_OPTION_TEXT
            return command

        return decorator

    decorators.help_option = help_option_zh


def _translate_rich_utils(rich_utils: ModuleType) -> None:
    rich_utils._ = gettext
    # built from gettext when typer.rich_utils was imported, so set again
    rich_utils.DEPRECATED_STRING = gettext("(deprecated) ")
    rich_utils.DEFAULT_STRING = gettext("[default: {}]")
    rich_utils.ENVVAR_STRING = gettext("[env var: {}]")
    rich_utils.REQUIRED_LONG_STRING = gettext("[required]")
    rich_utils.ARGUMENTS_PANEL_TITLE = gettext("Arguments")
    rich_utils.OPTIONS_PANEL_TITLE = gettext("Options")
    rich_utils.COMMANDS_PANEL_TITLE = gettext("Commands")
    rich_utils.ERRORS_PANEL_TITLE = gettext("Error")
    rich_utils.ABORTED_TEXT = gettext("Aborted.")
    rich_utils.RICH_HELP = gettext("Try [blue]'{command_path} {help_option}'[/] for help.")
    if getattr(rich_utils.rich_format_error, "junheng", False):
        return
    print_error = rich_utils.rich_format_error

    def rich_format_error(error: Exception) -> None:
        message = translate_error(error.format_message())
        error.format_message = lambda: message  # this one error, as it is printed
        print_error(error)

    rich_format_error.junheng = True
    rich_utils.rich_format_error = rich_format_error


class _RichUtilsFinder(importlib.abc.MetaPathFinder):
    """Translates typer.rich_utils the moment it is first imported."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "typer.rich_utils":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _TranslatingLoader(spec.loader)
        return spec


class _TranslatingLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        _translate_rich_utils(module)
