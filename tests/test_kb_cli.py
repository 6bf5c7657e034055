"""`python -m bot kb import|export|ask`: all or nothing with every bad line named, an export that
imports back unchanged, `--replace` that says what it turns off, and `ask` for scripts."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.kb_cli import SAMPLE_FAQ
from storage.kb_csv import HEADER, parse

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "kb.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    return path


def kb(capsys, *args: str, stdin: str = "") -> tuple[int, str, str]:
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        code = main(["kb", *args])
    finally:
        sys.stdin = old
    out = capsys.readouterr()
    return code, out.out, out.err


def write_csv(path: Path, rows: list[list[str]], header=HEADER, encoding="utf-8") -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def test_a_bad_line_is_named_and_nothing_is_imported(db, tmp_path, capsys):
    good = [
        "物业费怎么交？",
        "管理费怎么交|物业费在哪交",
        "请您在小程序中缴纳。",
        "缴费",
        "",
        "",
        "",
        "",
    ]
    no_answer = ["发票怎么开？", "", "", "发票", "", "", "", ""]
    bad_date = ["春节上班吗？", "", "照常上班。", "", "", "", "2027/13/01", ""]
    twice = ["物業費怎麼交?", "", "请您到前台缴纳。", "", "", "", "", ""]
    path = write_csv(tmp_path / "faq.csv", [good, no_answer, bad_date, twice])
    code, out, _ = kb(capsys, "import", str(path))
    assert code == 1
    assert "第3行：缺少答案（answer）" in out
    assert "第4行：日期应写成 YYYY-MM-DD" in out and "2027/13/01" in out
    assert "第5行：与前面的问题重复，见第2行" in out  # the same question once folded
    assert "没有导入任何数据" in out
    code, out, _ = kb(capsys, "export")
    assert code == 0 and out.strip() == ",".join(HEADER)


def test_a_gbk_file_and_a_wrong_header_are_refused(db, tmp_path, capsys):
    gbk = write_csv(
        tmp_path / "gbk.csv", [["问题", "", "答案", "", "", "", "", ""]], encoding="gbk"
    )
    code, out, _ = kb(capsys, "import", str(gbk))
    assert code == 1 and "UTF-8" in out
    wrong = write_csv(tmp_path / "h.csv", [["问题", "答案"]], header=("q", "a"))
    code, out, _ = kb(capsys, "import", str(wrong))
    assert code == 1 and "表头缺少列：question,answer" in out
    code, _, err = kb(capsys, "import", str(tmp_path / "missing.csv"))
    assert code == 2 and "找不到文件" in err


def test_the_export_imports_back_unchanged(db, tmp_path, capsys):
    code, out, _ = kb(capsys, "import", str(SAMPLE_FAQ))
    starter, _ = parse(SAMPLE_FAQ.read_bytes())
    assert code == 0 and f"新增{len(starter)}条" in out
    exported = tmp_path / "export.csv"
    code, out, _ = kb(capsys, "export", str(exported))
    assert code == 0 and f"已导出{len(starter)}条" in out
    assert exported.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel opens it as UTF-8
    again, report = parse(exported.read_bytes())
    assert report.ok
    fields = [[r.fields() for r in rows] for rows in (starter, again)]
    assert fields[0] == fields[1]
    code, out, _ = kb(capsys, "import", str(exported))
    assert code == 0 and f"新增0条，更新0条，未变{len(starter)}条" in out


def test_replace_says_what_it_turns_off_and_asks(db, tmp_path, capsys):
    assert kb(capsys, "import", str(SAMPLE_FAQ))[0] == 0
    rows = list(csv.reader(io.StringIO(SAMPLE_FAQ.read_text(encoding="utf-8"))))
    kept = write_csv(tmp_path / "two.csv", rows[1:3])
    # not in a terminal, no --yes: refused before anything changes
    code, out, err = kb(capsys, "import", str(kept), "--replace")
    assert code == 2 and "--yes" in err
    assert "将停用文件中没有的" in out and "#3 物业费多久交一次？" in out
    assert kb(capsys, "ask", "物业费多久交一次")[1].count("#3 物业费多久交一次？") == 1
    code, out, _ = kb(capsys, "import", str(kept), "--replace", "--yes")
    total = len(rows) - 1
    assert code == 0 and f"停用文件中没有的{total - 2}条" in out
    assert "已停用 #3 物业费多久交一次？" in out
    code, out, _ = kb(capsys, "export")
    assert len(list(csv.reader(io.StringIO(out)))) == 3  # the header and the two kept


def test_ask_prints_the_best_three_with_their_scores(db, capsys):
    assert kb(capsys, "import", str(SAMPLE_FAQ))[0] == 0
    code, out, _ = kb(capsys, "ask", "管理費怎麼繳？")
    assert code == 0
    lines = [line for line in out.splitlines() if line.startswith("  ")]
    assert len(lines) == 3 and "物业费怎么交？" in lines[0]
    assert "直接回答第1条" in out
    code, out, _ = kb(capsys, "ask", "今天天气怎么样")
    assert "转人工" in out


def test_ask_reads_questions_from_stdin_and_writes_json_lines(db, tmp_path, capsys):
    assert kb(capsys, "import", str(SAMPLE_FAQ))[0] == 0
    questions = "wifi怎么装\n\n门卡丢了咋办\n"
    r = subprocess.run(
        [sys.executable, "-m", "bot", "kb", "ask"],
        cwd=ROOT,
        check=False,
        env={**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{db}"},
        input=questions,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # nothing from jieba or the database in the way
    answers = [json.loads(line) for line in r.stdout.splitlines()]
    assert [a["question"] for a in answers] == ["wifi怎么装", "", "门卡丢了咋办"]
    assert answers[0]["top"][0]["question"] == "小区宽带怎么办理？"
    assert answers[1]["top"] == []
    assert answers[2]["top"][0]["question"] == "门禁卡丢了怎么补办？"
    scores = [t["score"] for t in answers[2]["top"]]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True)
    assert all(set(t) == {"question", "score"} for a in answers for t in a["top"])


def test_the_kb_commands_need_no_telegram(db):
    code = (
        "import sys\n"
        "from bot.__main__ import main\n"
        "assert main(['kb', 'ask', '物业费怎么交']) == 0\n"
        "assert main(['kb', 'export']) == 0\n"
        "assert not [m for m in sys.modules if m.startswith(('aiogram', 'aiohttp'))]\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        check=False,
        env={**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{db}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "没有相近的常见问题" in r.stdout  # an empty base: nothing to give
