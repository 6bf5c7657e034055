"""我的工单: one ticket per line in the list; a withdrawn ticket shows no old promises."""

import re

from .dialog_driver import identified_owner

NUMBER = re.compile(r"(?:BX|TS|ZX)-\d{8}-\d{4}")


async def _consults(o, *questions):
    for q in questions:
        await o.press("咨询")
        await o.send(q)


def _ticket_lines(text):
    return [line for line in text.split("\n") if NUMBER.search(line)]


async def test_the_list_shows_one_ticket_per_line():
    o = await identified_owner()
    await _consults(o, "停车位怎么办理？", "物业费\n可以线上交吗？\n还是要去前台", "快递柜在哪里")
    await o.press("我的工单")
    lines = _ticket_lines(o.text)
    assert len(lines) == 3, o.text
    for line in lines:
        assert len(NUMBER.findall(line)) == 1, line  # never two tickets on one line
        assert "待受理" in line and "前" in line, line  # status and the promised time
    # a short summary of what it is about, on the ticket's own line
    assert "停车位" in lines[2] and "物业费" in lines[1] and "快递柜" in lines[0]
    assert "前台" not in o.text  # the summary is short


async def test_a_withdrawn_ticket_shows_no_old_promised_times():
    o = await identified_owner()
    await _consults(o, "停车位怎么办理？", "快递柜在哪里")
    await o.press("我的工单")
    await o.press("ZX-20261123-0001")
    assert "承诺" in o.text  # open: the promise is shown
    await o.press("撤单")
    await o.press("确认撤单")
    assert "已撤销" in o.text
    assert "承诺" not in o.text and "11:00前" not in o.text, o.text
    await o.press("返回列表")
    lines = _ticket_lines(o.text)
    withdrawn = next(line for line in lines if "ZX-20261123-0001" in line)
    still_open = next(line for line in lines if "ZX-20261123-0002" in line)
    assert "已撤销" in withdrawn and "前" not in withdrawn, withdrawn
    assert "11:00前" in still_open, still_open
