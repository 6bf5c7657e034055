import ast
from pathlib import Path

import pytest

from dialogs.polite import check
from dialogs.template_samples import lint_all
from dialogs.texts import LABELS_FILE, TEMPLATES_DIR, DuplicateTemplate, Texts

ROOT = Path(__file__).resolve().parent.parent


def test_every_template_renders_and_passes_the_polite_language_check():
    count, findings = lint_all(Texts())
    assert count > 50
    assert findings == []


def test_checker_finds_forbidden_phrases_and_suggests_rewrites():
    cases = {
        "你必须先交费": "请您",
        "这不归我们管": "主管",
        "这是我们公司的规定": "为了保障",
        "我不知道": "核实",
        "绝对不可能出现这种问题的": "核实",
        "是的,但是这个不行": "我明白",
        "是的，但是这个不行": "我明白",  # full-width, as agents' replies are after fix_punctuation
        "不好意思,因为您报错房号": "完善",
        "你好,请问有什么事": "您",
    }
    for text, rewrite_part in cases.items():
        found = check(text)
        assert found, text
        assert any(rewrite_part in f.rewrite for f in found), (text, found)


def test_checker_passes_clean_polite_text():
    assert check("王女士，您好！请您稍候，我马上为您核实，并在30分钟内回复您。") == []


def test_lint_templates_command_exits_zero(capsys):
    from bot.__main__ import main

    assert main(["lint-templates"]) == 0
    assert "全部通过" in capsys.readouterr().out


def test_no_chinese_words_in_python_code():
    """Owner-facing words live in templates_zh/ and the data files; .py files keep only
    comments and docstrings (template_samples.py is sample data for the lint)."""
    for folder in ("bot", "desk", "dialogs", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "template_samples.py" or "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            docstrings = {
                id(n.body[0].value)
                for n in ast.walk(tree)
                if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and n.body
                and isinstance(n.body[0], ast.Expr)
                and isinstance(n.body[0].value, ast.Constant)
            }
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in docstrings
                    and any("\u4e00" <= ch <= "\u9fff" for ch in node.value)
                ):
                    raise AssertionError(f"{path}:{node.lineno}: {node.value!r}")


def test_log_redaction_masks_token_and_phones():
    from bot.log_redaction import redact

    token = "123456789:AAHtestTOKENtestTOKENtestTOKENtest12"
    line = f"POST https://api.telegram.org/bot{token}/sendMessage phone=+86 138-0000-0301"
    out = redact(line)
    assert token not in out and "0000" not in out.split("phone=")[1]
    assert "138****0301" in out


# --- Chinese that reads like a trained agent (dialogs/typography.py) ---------------------------


def test_half_width_punctuation_beside_chinese_is_made_full_width():
    from dialogs.typography import fix_punctuation

    cases = {
        "王女士,您好!请问有什么可以帮您?": "王女士，您好！请问有什么可以帮您？",
        "好的, 师傅马上到": "好的，师傅马上到",
        "您好!\n请问": "您好！\n请问",  # end of a line: autocorrect-py leaves it
        "师傅电话:13900000001,请联系": "师傅电话：13900000001，请联系",
        "请问,3A还是3E?": "请问，3A还是3E？",
        "请稍候;谢谢": "请稍候；谢谢",
        "好的!!!": "好的！！！",
        "内容:(见照片)": "内容：（见照片）",
        "姓氏(surname)与姓名不符": "姓氏（surname）与姓名不符",
        '他说"好的"就走了': "他说“好的”就走了",
        "稍等...我查一下": "稍等……我查一下",
        "方案1:请您选择": "方案1：请您选择",
    }
    for text, fixed in cases.items():
        assert fix_punctuation(text) == fixed, text


def test_numbers_times_and_ticket_numbers_keep_their_half_width_signs():
    from dialogs.typography import fix_punctuation

    for text in (
        "工单BX-20261124-0007已受理",
        "明天08:30-12:00上门",
        "服务热线400-800-1234",
        "3栋1单元3A室",  # no spaces between Chinese and digits ("3 栋 1 单元")
        "3/5 请问您对这次服务总体满意吗？",
        "A/E问题",
        "hello, world! (ok)?",
        "1,000元",
        "好的，马上到:-)",  # a smiley stays as typed
    ):
        assert fix_punctuation(text) == text, text


def test_punctuation_findings_show_the_place_and_the_fix():
    from dialogs.typography import check_punctuation

    found = check_punctuation("王女士,您好!请问(3A)")
    assert [(f.phrase, f.rewrite) for f in found] == [
        ("王女士,您好!请问(3A)", "王女士，您好！请问（3A）")
    ]
    assert check_punctuation("王女士，您好！") == []


def test_salutation_as_a_third_person_is_found():
    from dialogs.typography import check_salutation

    found = check_salutation("请问王女士需要办理什么业务？已为王女士催办。", "王女士")
    assert [f.phrase for f in found] == ["请问王女士", "为王女士"]
    assert "王女士，" in found[0].rewrite and "请问您" in found[0].rewrite
    assert check_salutation("王女士，请问您需要办理什么业务？已为您催办。", "王女士") == []
    assert check_salutation("请问您需要什么帮助？", "") == []


def test_doubled_words_are_found_but_real_reduplications_pass():
    from dialogs.typography import check_doubled

    for text, doubled in (("尽快上门上门", "上门上门"), ("我的的工单", "的的"), ("您您好", "您您")):
        assert [f.phrase for f in check_doubled(text)] == [doubled], text
    for text in (
        "我帮您看看",
        "谢谢您",
        "请稍稍等一下",
        "我帮您检查检查",
        "请问问题解决了吗",
        "一一核对",
    ):
        assert check_doubled(text) == [], text


def test_lint_reports_each_new_rule_in_a_template(tmp_path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "labels.toml").write_text(
        (TEMPLATES_DIR / LABELS_FILE).read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "owner").mkdir()
    (tmp_path / "owner" / "bad.j2").write_text(
        "请问{{ salutation }}需要尽快上门上门吗?", encoding="utf-8"
    )
    _count, findings = lint_all(Texts(directory=tmp_path))
    phrases = {f.phrase for name, f in findings if name == "bad"}
    assert {"请问王女士", "上门上门"} <= phrases
    assert any("吗?" in p for p in phrases)


# --- templates in folders by audience, found by name -------------------------------------------

# the prefix that marks each audience's templates; everything else an owner reads is in owner/
AUDIENCE_PREFIX = {"agent": "agent_", "cli": "cli_", "console": "console_", "survey": "survey_"}


def test_every_template_sits_in_the_folder_of_its_audience():
    t = Texts()
    assert list(TEMPLATES_DIR.glob("*.j2")) == []
    assert t.template_path("_macros") == "shared/_macros.j2"
    folders = {path.split("/")[0] for path in t.loader.paths.values()}
    assert folders == {"owner", "agent", "survey", "cli", "console", "shared"}
    for name in t.template_names():
        folder = t.template_path(name).split("/")[0]
        assert folder in (*AUDIENCE_PREFIX, "owner"), name
        for audience, prefix in AUDIENCE_PREFIX.items():
            assert name.startswith(prefix) == (folder == audience), (name, folder)


def test_a_template_name_in_two_folders_is_refused(tmp_path):
    for folder in ("owner", "agent"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "menu.j2").write_text("您好", encoding="utf-8")
    with pytest.raises(DuplicateTemplate, match="menu.j2"):
        Texts(directory=tmp_path)


def _render_both(names):
    from dialogs.template_samples import contexts

    t = Texts()
    return [[t.render(n, ctx) for n in names] for ctx in contexts()]


def test_no_question_asked_twice_in_a_row():
    """The menu follows the greeting, the identification and every finished task: it asks
    nothing itself, so the message before it carries the one question."""
    for before in ("welcome_back", "identified"):
        for first, menu in _render_both([before, "menu"]):
            assert first.count("？") == 1, first
            assert "？" not in menu and "请问" not in menu, menu


def test_a_finished_task_closes_with_the_same_question():
    for name in (
        "repair_created",
        "consult_created",
        "complaint_closed",
        "owner_released",
        "handoff_ended_by_owner",
    ):
        for (text,) in _render_both([name]):
            assert text.endswith("请问还有什么可以帮您？"), (name, text)


def test_complaint_wording_is_warm_not_sales_talk():
    for texts_ in _render_both(
        ["complaint_ask_expect", "complaint_plan", "complaint_alternatives"]
    ):
        joined = "\n".join(texts_)
        for phrase in ("才会觉得满意", "好处", "当天内"):
            assert phrase not in joined, phrase
