"""One error base (issue 10): every error the project raises for people is a ``JunhengError`` with
a Chinese message and a kind; the API answers each kind with one status, the CLI with one exit
code, and a room's error keeps its own class, attributes and second base."""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil

import pytest

from tracker.errors import ErrorDetail, ErrorKind, JunhengError

PACKAGES = ("tracker", "flows", "notifications", "api", "junheng")
# Exceptions that are not errors shown to people: a cell's reason before its row is known (turned
# into a SheetError), and the web's "log in first" (401 or a redirect, not a kind of error).
NOT_FOR_PEOPLE = {
    "api.errors.LoginRequired",  # answered 401 or a redirect to the login page
    "api.upload_guard.UploadRefused",  # an HTTPException raised while the body streams in (400)
    "tracker.schooldata.cells.CellError",  # one cell's reason, wrapped into the sheet's SheetError with row and column
    "tracker.accounts.throttle._Purged",  # control flow: a counter row purged mid-attempt, retried
}


def _project_exceptions() -> dict[str, type[BaseException]]:
    found = {}
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for module_info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
            if ".migrations" in module_info.name or module_info.name.endswith("__main__"):
                continue
            module = importlib.import_module(module_info.name)
            for name, value in vars(module).items():
                if (inspect.isclass(value) and issubclass(value, BaseException)
                        and not issubclass(value, Warning) and value.__module__ == module.__name__):
                    found[f"{value.__module__}.{name}"] = value
    return found


def test_every_error_of_the_project_has_the_one_base():
    exceptions = _project_exceptions()
    assert len(exceptions) >= 30  # the rooms' errors are found, not an empty walk
    without = sorted(name for name, cls in exceptions.items()
                     if not issubclass(cls, JunhengError) and name not in NOT_FOR_PEOPLE)
    assert without == [], f"errors without tracker.errors.JunhengError as base: {without}"


def test_each_kind_has_one_status_and_one_exit_code():
    from api.errors import STATUS_OF_KIND
    from junheng.cli import EXIT_CODE_OF_KIND

    assert set(STATUS_OF_KIND) == set(ErrorKind) == set(EXIT_CODE_OF_KIND)
    assert STATUS_OF_KIND == {ErrorKind.invalid: 422, ErrorKind.bad_request: 400, ErrorKind.not_found: 404,
                              ErrorKind.conflict: 409, ErrorKind.forbidden: 403, ErrorKind.unsupported: 415,
                              ErrorKind.too_large: 413, ErrorKind.unavailable: 503}
    assert EXIT_CODE_OF_KIND[ErrorKind.invalid] == 2  # as before: bad input exits 2
    codes = [code for kind, code in EXIT_CODE_OF_KIND.items() if kind is not ErrorKind.bad_request]
    assert len(set(codes)) == len(codes) and 0 not in codes and 1 not in codes


def test_rooms_keep_their_classes_attributes_and_second_bases():
    from tracker.evidence.storage import EvidenceRejected, EvidenceTooLarge
    from tracker.org.service import CampaignNotFound, UnknownName
    from tracker.plans import PlanError
    from tracker.schooldata.sheet import SheetError, SheetProblem
    from tracker.tasks.lifecycle import InvalidTaskInput, NotPermitted, TransitionError
    from tracker.tasks.service import TaskNotFound

    assert issubclass(TaskNotFound, LookupError) and issubclass(UnknownName, LookupError)
    assert issubclass(SheetError, ValueError) and issubclass(PlanError, ValueError)
    assert TaskNotFound("没有编号为 #9 的任务").kind is ErrorKind.not_found
    assert (TransitionError.kind, NotPermitted.kind, InvalidTaskInput.kind) == (
        ErrorKind.conflict, ErrorKind.forbidden, ErrorKind.invalid)
    assert EvidenceRejected("x").kind is ErrorKind.bad_request and EvidenceTooLarge(100).kind is ErrorKind.too_large
    assert EvidenceRejected("x", kind=ErrorKind.unsupported).kind is ErrorKind.unsupported
    assert EvidenceRejected.kind is ErrorKind.bad_request  # one raise's kind leaves the class alone
    # which of several campaigns is for the user to say (bad input), none at all is not found
    assert CampaignNotFound("…请用 --campaign 指定", kind=ErrorKind.invalid).kind is ErrorKind.invalid
    assert CampaignNotFound("没有创建工作").kind is ErrorKind.not_found

    error = SheetError("学校.xlsx", [SheetProblem(3, "小学在校生数", "第 3 行「小学在校生数」：应为整数")])
    assert error.problems[0].row == 3 and error.filename == "学校.xlsx"
    assert error.summary == "文件「学校.xlsx」有 1 处问题，未导入任何数据"
    assert error.details == [ErrorDetail("第 3 行「小学在校生数」：应为整数", row=3, column="小学在校生数")]
    assert str(error) == error.message and "第 3 行" in error.message
    plan = PlanError(["第 4 行 分工.27.牵头：未知的单位「教研局」"], path="plan.yaml")
    assert plan.summary == "方案文件 plan.yaml 有 1 处问题" and plan.details[0].message.startswith("第 4 行")


@pytest.mark.parametrize("error", [
    JunhengError("数据库暂时无法连接", kind=ErrorKind.unavailable),
    JunhengError("第 2 行有误", details=[ErrorDetail("应为整数", row=2, column="学生数")], summary="有 1 处问题"),
])
def test_an_error_survives_pickling_with_its_kind_and_details(error):
    # flows hand errors between processes: the kind a raise gave must not fall back to the class's
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.message, copy.kind, copy.details, copy.summary) == (
        error.message, error.kind, error.details, error.summary)
