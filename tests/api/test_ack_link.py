"""The 签收 page links to its task (issue 12 §8): the task page when the browser is logged in, the
login page going on to it otherwise — before and after signing."""

from __future__ import annotations

import datetime as dt
import re

from tests.api.test_pages import log_in
from tracker.reminders.ack import make_ack_token

# far enough ahead that the link is valid whatever day the tests run
EXPIRES = dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc)
LINK = re.compile(r'<a href="([^"]+)" id="task-link">')


def test_the_ack_page_links_to_the_task(client, api_world):
    task = api_world.tasks["a"]
    token = make_ack_token(task.id, api_world.world.people["李科长"].id, EXPIRES)

    client.cookies.clear()
    page = client.get(f"/ack/{token}")
    assert page.status_code == 200 and "签收（李科长）" in page.text
    assert LINK.search(page.text).group(1) == f"/login?next=%2Ftasks%2F{task.id}"
    # the link leads through the login to the task
    log_in(client, "dept_a")
    r = client.get(f"/tasks/{task.id}")
    assert r.status_code == 200 and task.title in r.text

    # logged in: straight to the task page, also on the confirmation after signing
    signed = client.post(f"/ack/{token}")
    assert signed.status_code == 200 and "已签收" in signed.text
    assert LINK.search(signed.text).group(1) == f"/tasks/{task.id}"

    client.cookies.clear()
    again = client.get(f"/ack/{token}")
    assert LINK.search(again.text).group(1) == f"/login?next=%2Ftasks%2F{task.id}"
    login = client.get(LINK.search(again.text).group(1).replace("&amp;", "&"))
    assert f'name="next" value="/tasks/{task.id}"' in login.text
