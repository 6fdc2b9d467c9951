"""The deployment files and the guides cannot drift from the program: every `junheng …` command
in the systemd units and in the fenced code blocks of docs/*.md (and README.md) must name a real
command path of the CLI, with options that command really has; the example settings must parse."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import typer

from junheng.cli import app
from tracker.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
FENCE = re.compile(r"^(\s*)(```|~~~)")
WRAPPERS_WITH_ARG = {"-u", "--user", "-g", "--group"}


def _root():
    return typer.main.get_command(app)


def _is_group(command) -> bool:
    return hasattr(command, "commands")  # typer's groups are its own click's, so no isinstance


def _subcommands(group) -> dict:
    """A group's commands by name. The root group builds its commands on demand (its `commands`
    is empty until asked), so ask it as Click does."""
    ctx = group.context_class(group, info_name=group.name)
    return {name: group.get_command(ctx, name) for name in group.list_commands(ctx)}


def _segments(line: str) -> list[list[str]]:
    """A shell line as its pipeline's segments, each as words (a `…` or a bracketed optional part
    of the guides' notation is kept as plain words)."""
    line = re.sub(r"(^|\s)#.*$", "", line).strip()  # a trailing comment
    line = line.replace("[", " ").replace("]", " ")
    parts = []
    for segment in re.split(r"\s\|\s|\s\|\||&&|;", line):
        try:
            words = shlex.split(segment)
        except ValueError:
            words = segment.split()
        if words:
            parts.append(words)
    return parts


def _command_words(words: list[str]) -> list[str] | None:
    """The words after `junheng` when this segment runs it (directly, via `uv run`, `sudo -u X`,
    with VAR=value in front, or by its installed path); else None."""
    i = 0
    while i < len(words):
        word = words[i]
        if re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", word) or word in ("$", "exec", "nohup", "time", "--"):
            i += 1
        elif word in ("sudo", "runuser") or (word == "uv" and i + 1 < len(words) and words[i + 1] == "run"):
            i += 2 if word == "uv" else 1
            while i < len(words) and words[i].startswith("-"):
                i += 2 if words[i] in WRAPPERS_WITH_ARG else 1
        else:
            break
    if i < len(words) and Path(words[i]).name == "junheng":
        return words[i + 1:]
    return None


def _check(words: list[str], where: str, root, parent=None) -> tuple[str, ...]:
    """Walk the command path; every option must exist on the command reached. Returns the path."""
    command = parent or root
    path: list[str] = []
    rest = list(words)
    while _is_group(command) and rest and not rest[0].startswith("-"):
        name = rest.pop(0)
        subs = _subcommands(command)
        sub = subs.get(name)
        if sub is None:
            if command is not root and (command.invoke_without_command or not subs):
                rest.insert(0, name)
                break
            raise AssertionError(f"{where}: 「junheng {' '.join(words)}」: no command 「{name}」 under "
                                 f"「{command.name}」 (has: {', '.join(sorted(subs))})")
        path.append(name)
        command = sub
    if _is_group(command) and not command.invoke_without_command and path and not rest:
        raise AssertionError(f"{where}: 「junheng {' '.join(words)}」 stops at the group 「{path[-1]}」")
    options = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)} | {"--help"}
    for word in rest:
        if word.startswith("--") or re.fullmatch(r"-[A-Za-z]", word):
            name = word.split("=", 1)[0]
            assert name in options, (f"{where}: 「junheng {' '.join(words)}」: 「{' '.join(path) or 'junheng'}」 "
                                     f"has no option {name} (has: {', '.join(sorted(options))})")
    return tuple(path)


def _check_line(line: str, where: str, root) -> list[tuple[str, ...]]:
    """Check every junheng command of a line. A segment after `|` that is not a command of its own
    but a subcommand of the group before (the guides' `task show 12 | accept 12` notation) is
    checked as an alternative under that group."""
    found = []
    group = None
    for words in _segments(line):
        after = _command_words(words)
        if after is not None:
            path = _check(after, where, root)
            found.append(path)
            parent = root
            for name in path[:-1]:
                parent = _subcommands(parent)[name]
            group = parent
        elif group is not None and words[0] in _subcommands(group):
            found.append(_check(words, where, root, parent=group))
    return found


def _code_lines(path: Path):
    """(line number, text) of every line inside a fenced code block, continuation lines joined."""
    inside = False
    pending, start = "", 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            inside = not inside
            continue
        if not inside:
            continue
        text = line.strip()
        if not pending:
            start = number
        if text.endswith("\\"):
            pending += text[:-1] + " "
            continue
        yield start, pending + text
        pending = ""


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


UNITS = sorted(DEPLOY.glob("*.service"))


def test_the_deploy_folder_has_its_units():
    assert {p.name for p in UNITS} >= {"junheng-serve.service", "junheng-scheduler.service", "junheng-backup.service"}


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_unit_files_run_real_commands(unit):
    root = _root()
    service = _unit(unit)["Service"]
    assert service["User"] == "junheng"
    assert service["EnvironmentFile"] == "/etc/junheng/junheng.env"
    if unit.name != "junheng-backup.service":
        assert service["Restart"] == "on-failure"
    words = shlex.split(service["ExecStart"])
    assert words[0] == "/opt/junheng/.venv/bin/junheng"  # where the guide installs it
    path = _check(words[1:], unit.name, root)
    expected = {"junheng-serve.service": ("serve",), "junheng-scheduler.service": ("scheduler",),
                "junheng-backup.service": ("backup",)}[unit.name]
    assert path == expected
    if unit.name == "junheng-serve.service":
        # the web workers leave the clock to the scheduler unit
        assert "--no-scheduler" in words and "--workers" in words


def test_the_backup_timer_starts_the_backup_service():
    timer = _unit(DEPLOY / "junheng-backup.timer")
    assert timer["Timer"]["OnCalendar"] and timer["Timer"]["Persistent"] == "true"
    assert (DEPLOY / "junheng-backup.service").is_file()  # a timer starts the .service of its own name


def _guides() -> list[Path]:
    return sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]


def test_every_junheng_command_in_the_guides_exists():
    root = _root()
    seen: set[tuple[str, ...]] = set()
    for guide in _guides():
        for number, line in _code_lines(guide):
            seen.update(_check_line(line, f"{guide.relative_to(ROOT)}:{number}", root))
    # the parser found the commands the deployment guide is about (so it cannot pass by finding none)
    assert {("backup",), ("restore",), ("mail", "test"), ("serve",), ("scheduler",), ("campaign", "init"),
            ("user", "add"), ("calendar", "import")} <= seen, sorted(seen)


def test_the_checker_catches_a_wrong_command_or_option():
    root = _root()
    with pytest.raises(AssertionError, match="no command 「bakup」"):
        _check_line("uv run junheng bakup --out x.tar.gz", "example", root)
    with pytest.raises(AssertionError, match="has no option --worker"):
        _check_line("sudo -u junheng /opt/junheng/.venv/bin/junheng serve --worker 4", "example", root)
    with pytest.raises(AssertionError, match="has no option --fast"):
        _check_line("junheng task show 12 | accept 12 --fast", "example", root)
    assert _check_line("echo x | junheng user add a --role office  # comment", "example", root) == [("user", "add")]
    assert _check_line("createuser --pwprompt junheng", "example", root) == []


def _env_file(path: Path, *, uncomment: bool) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile reads them (one level of quotes removed)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if uncomment and line.startswith("# JUNHENG_"):
            line = line[2:]
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def test_the_example_settings_parse(monkeypatch):
    from notifications.channels.email import SmtpConfig

    values = _env_file(DEPLOY / "junheng.env.example", uncomment=True)
    for key in list(values):
        if key in ("PREFECT_SERVER_ANALYTICS_ENABLED", "DO_NOT_TRACK"):
            continue
        assert key.startswith("JUNHENG_"), key
        assert key.removeprefix("JUNHENG_").lower() in Settings.model_fields, f"{key} is not a setting"
    values.pop("JUNHENG_SMTP_CA_FILE")  # an example path that does not exist here
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert set(settings.webhooks) == {"创建办群", "财政局群"}
    assert settings.webhooks["财政局群"].secret.startswith("SEC")
    config = SmtpConfig.from_settings(settings)
    assert config.tls == "tls" and config.port == 465 and config.username
    assert settings.base_url.startswith("https://")


def test_nginx_allows_uploads_up_to_the_evidence_limit_and_passes_the_scheme():
    text = (DEPLOY / "nginx-junheng.conf").read_text(encoding="utf-8")
    size = re.search(r"client_max_body_size\s+(\d+)m;", text)
    limit_mb = Settings.model_fields["evidence_max_bytes"].default / 1024 / 1024
    assert size and limit_mb < int(size.group(1)) <= limit_mb + 20
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in text
    assert "proxy_pass http://junheng;" in text and "server 127.0.0.1:8000;" in text
    serve = _unit(DEPLOY / "junheng-serve.service")["Service"]["ExecStart"]
    assert "--host 127.0.0.1 --port 8000" in serve  # where nginx sends the requests


@pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
                    reason="nginx 未安装：跳过 nginx -t 检查")
def test_nginx_accepts_the_example(tmp_path):
    """`nginx -t` on the example inside a minimal main configuration, with a throwaway certificate."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    text = (DEPLOY / "nginx-junheng.conf").read_text(encoding="utf-8")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=duban.jyj.example.gov.cn", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    text = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};", text)
    text = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", text)
    text = text.replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "junheng.conf").write_text(text, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path};\n  include {tmp_path}/junheng.conf;\n}}\n",
        encoding="utf-8")
    result = subprocess.run([nginx, "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze 未安装：跳过单元文件检查")
def test_systemd_accepts_the_units():
    """`systemd-analyze verify`: nothing to say but that the program is not installed at /opt here."""
    names = [str(p) for p in UNITS] + [str(DEPLOY / "junheng-backup.timer")]
    result = subprocess.run(["systemd-analyze", "verify", *names], capture_output=True, text=True, cwd=DEPLOY)
    complaints = [line for line in (result.stdout + result.stderr).splitlines()
                  if line.strip() and "/opt/junheng/.venv/bin/junheng is not executable" not in line]
    assert complaints == [], complaints
