"""Unit tests of the record's redaction of credential-like lines in the uncommitted diff."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sagemaker_launcher.spec.redaction import REDACTED, is_secret_name, redact

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
KEY_ID = "AKIAIOSFODNN7EXAMPLE"


def file_diff(path: str, lines: list[str], old_start: int = 1) -> str:
    """A ``git diff HEAD`` section for one file whose hunk holds ``lines`` (each with its marker)."""
    old = sum(1 for line in lines if not line.startswith("+"))
    new = sum(1 for line in lines if not line.startswith("-"))
    return (
        f"diff --git a/{path} b/{path}\n"
        "index 83db48f..bf269f4 100644\n"
        f"--- a/{path}\n"
        f"+++ b/{path}\n"
        f"@@ -{old_start},{old} +{old_start},{new} @@\n" + "".join(line + "\n" for line in lines)
    )


# A working tree as a hostile review left it: a .py, a .sh, a .yaml and a .txt file.
TRAIN_PY = [
    " import os",
    f'+os.environ["AWS_SECRET_ACCESS_KEY"] = "{AWS_SECRET}"',
    "+config['password'] = 'hunter2'",
    f'+session = boto3.Session("{KEY_ID}", "{AWS_SECRET}")',
    "-lr = 0.01",
    "+lr = 0.001",
    " model = build(cfg)",
    '+db = connect("db.internal", "hunter2")',
]
RUN_SH = [
    "+export DB_PASS=s3cr3t",
    "+python train.py --password Pa55-word --epochs 3",
    "+python train.py --api-key=ak-998877",
    "+python train.py --api-key ak-665544 \\",
    "+    --secret-file-name stays-hidden",
    "+mysql -u root -pmysqlpw42 -e 'select 1'",
    "+echo done",
]
CONFIG_YAML = [
    " db:",
    "+  password: >-",
    "+    folded-pw-1",
    "+  user: bob",
    "+  api_token: |",
    "+    literal-pw-2",
    "+",
    "+    literal-pw-3",
    "+  secret_key: |-",
    "+    strip-pw-4",
    "+  passphrase: >",
    "+    folded-pw-5",
    "+  credentials:",
    "+    id: nested-pw-6",
    "+    key: nested-pw-7",
    "+  keys:",
    "+    - keep-this-item",
    " lr: 0.001",
]
NOTES_TXT = [
    " notes on the run",
    "+password=swordfish99",
    "+github ghp_abcdefghijklmnopqrstuvwxyz0123456789 for the bot",
    "+batch size 64 works best",
]
DIFF = (
    file_diff("train.py", TRAIN_PY)
    + file_diff("scripts/run.sh", RUN_SH)
    + file_diff("configs/config.yaml", CONFIG_YAML)
    + file_diff("notes.txt", NOTES_TXT)
)
SECRETS = [
    AWS_SECRET,
    KEY_ID,
    "hunter2",
    "s3cr3t",
    "Pa55-word",
    "ak-998877",
    "ak-665544",
    "stays-hidden",
    "mysqlpw42",
    "folded-pw-1",
    "literal-pw-2",
    "literal-pw-3",
    "strip-pw-4",
    "folded-pw-5",
    "nested-pw-6",
    "nested-pw-7",
    "swordfish99",
    "ghp_abcdefghijklmnopqrstuvwxyz",
]
KEPT = [
    "diff --git a/train.py b/train.py",
    "--- a/configs/config.yaml",
    "+++ b/notes.txt",
    "@@ -1,3 +1,7 @@",
    " import os",
    "-lr = 0.01",
    "+lr = 0.001",
    " model = build(cfg)",
    "+echo done",
    " db:",
    "+  user: bob",
    "+  keys:",
    "+    - keep-this-item",
    " lr: 0.001",
    " notes on the run",
    "+batch size 64 works best",
]


def test_no_secret_of_the_multi_file_diff_reaches_the_record() -> None:
    text = redact(DIFF).text
    for secret in SECRETS:
        assert secret not in text


def test_harmless_lines_and_headers_are_kept_unchanged() -> None:
    lines = redact(DIFF).text.splitlines()
    for kept in KEPT:
        assert kept in lines
    assert len(lines) == len(DIFF.splitlines())


def test_lines_are_redacted_whole_with_their_marker_and_counted() -> None:
    original = DIFF.splitlines()
    result = redact(DIFF)
    redacted = result.text.splitlines()
    changed = [(old, new) for old, new in zip(original, redacted, strict=True) if old != new]
    assert changed
    assert all(new == old[0] + REDACTED for old, new in changed)
    assert result.lines == len(changed)
    # The blank line inside a YAML block holds nothing and stays as it is.
    assert "+" in redacted


@pytest.mark.parametrize(
    ("path", "line", "secret"),
    [
        ("train.py", f'+os.environ["AWS_SECRET_ACCESS_KEY"] = "{AWS_SECRET}"', AWS_SECRET),
        ("train.py", "+config['password'] = 'hunter2'", "hunter2"),
        ("train.py", f'+s = boto3.Session("{KEY_ID}", "{AWS_SECRET}")', AWS_SECRET),
        ("train.py", f"-key_id = {KEY_ID}", KEY_ID),
        ("train.py", '+    "api_key": "sk-live-123",', "sk-live-123"),
        ("train.py", "+url = 'https://user:pa55w0rd@example.com/repo'", "pa55w0rd"),
        ("train.py", "+headers = {'Authorization': 'Bearer abc.def.ghi'}", "abc.def.ghi"),
        ("train.py", '+os.environ.setdefault("WANDB_API_KEY", "0123abcd")', "0123abcd"),
        ("train.py", "+subprocess.run(['mysql', '-phunter2'])", "hunter2"),
        ("run.sh", "+python train.py --password hunter2", "hunter2"),
        ("run.sh", "+python train.py --password=hunter2", "hunter2"),
        ("run.sh", "+python train.py --api-key k-123456", "k-123456"),
        ("run.sh", "+python train.py --api-key=k-123456", "k-123456"),
        ("run.sh", "+mysql -u root -phunter2", "hunter2"),
        ("run.sh", '+mysqldump -p"hunter2" db', "hunter2"),
        ("run.sh", "+export DB_PASS=s3cr3t", "s3cr3t"),
        ("run.sh", "+PGPASSWORD=s3cr3t psql -h db", "s3cr3t"),
        ("run.sh", "+setenv API_TOKEN s3cr3t", "s3cr3t"),
        ("run.sh", "+HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz012345 python x.py", "hf_abcdefghijkl"),
        ("config.yaml", "+  password: hunter2", "hunter2"),
        ("notes.txt", "+machine api.example.com login bob password hunter2", "hunter2"),
        ("notes.txt", "+the key is ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdefghij"),
        ("Dockerfile", "+ENV DB_PASSWORD s3cr3t", "s3cr3t"),
    ],
)
def test_each_everyday_form_is_redacted(path: str, line: str, secret: str) -> None:
    diff = file_diff(path, [" lr = 0.001", line, " model = build(cfg)"])
    result = redact(diff)
    assert secret not in result.text
    assert line[0] + REDACTED in result.text.splitlines()
    assert " lr = 0.001" in result.text.splitlines()
    assert " model = build(cfg)" in result.text.splitlines()
    assert result.lines == 1


@pytest.mark.parametrize("indicator", ["|", "|-", "|+", ">", ">-", ">+", "", "  # set below"])
def test_a_yaml_value_on_the_next_lines_is_redacted(indicator: str) -> None:
    diff = file_diff(
        "config.yaml",
        [
            " db:",
            f"+  password:{' ' if indicator.strip() else ''}{indicator}",
            "+    hunter2",
            "+    more2",
            " lr: 1",
        ],
    )
    lines = redact(diff).text.splitlines()
    assert "hunter2" not in "\n".join(lines)
    assert "more2" not in "\n".join(lines)
    assert lines[-3:] == [f"+{REDACTED}", f"+{REDACTED}", " lr: 1"]


def test_a_yaml_list_under_an_empty_secret_key_is_redacted() -> None:
    diff = file_diff("config.yaml", ["+ci_secrets:", "+- first-secret", "+- second-secret", "+lr: 1"])
    lines = redact(diff).text.splitlines()
    assert lines[-4:] == ["+ci_secrets:", f"+{REDACTED}", f"+{REDACTED}", "+lr: 1"]


def test_a_yaml_block_follows_its_own_side_of_the_diff() -> None:
    diff = file_diff(
        "config.yaml",
        ["-  password: old-pw-1", "+  password: |", "-  user: bob", "+    new-pw-2", "   timeout: 3"],
    )
    lines = redact(diff).text.splitlines()
    assert lines[-5:] == [f"-{REDACTED}", f"+{REDACTED}", "-  user: bob", f"+{REDACTED}", "   timeout: 3"]


def test_a_context_block_redacts_both_sides() -> None:
    diff = file_diff("config.yaml", ["   token: >-", "-    old-pw-1", "+    new-pw-2", "   lr: 1"])
    lines = redact(diff).text.splitlines()
    assert lines[-4:] == [f" {REDACTED}", f"-{REDACTED}", f"+{REDACTED}", "   lr: 1"]


def test_a_block_ends_at_its_hunk() -> None:
    diff = file_diff("config.yaml", ["+password:"]) + file_diff("b.yaml", ["+    kept_value: 1"])
    assert "+    kept_value: 1" in redact(diff).text.splitlines()


def test_the_line_after_a_redacted_line_ending_in_a_backslash_is_redacted() -> None:
    diff = file_diff("run.sh", ["+python train.py --api-key \\", "+    k-778899 --epochs 3", "+echo done"])
    lines = redact(diff).text.splitlines()
    assert lines[-3:] == [f"+{REDACTED}", f"+{REDACTED}", "+echo done"]


def test_a_triple_quoted_secret_is_redacted_to_its_closing_quotes() -> None:
    diff = file_diff("keys.py", ['+PASSWORD = """', "+line-one-pw", '+"""', "+lr = 0.001"])
    lines = redact(diff).text.splitlines()
    assert lines[-4:] == [f"+{REDACTED}"] * 3 + ["+lr = 0.001"]


def test_a_value_found_once_is_redacted_on_every_line_that_holds_it() -> None:
    diff = file_diff(
        "train.py",
        ['+DB_PASSWORD = "Tr0ub4dor"', '+conn = connect("db", "Tr0ub4dor")', " lr = 0.001"],
    ) + file_diff("notes.txt", ["+use Tr0ub4dor for staging"])
    text = redact(diff).text
    assert "Tr0ub4dor" not in text
    assert " lr = 0.001" in text.splitlines()


def test_detect_secrets_findings_are_redacted_on_every_line_they_appear() -> None:
    # detect-secrets' SecretsCollection keeps one finding per value; every line must go all the same.
    token = "xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx"
    diff = file_diff("notes.txt", [f"-slack {token}", f"+slack {token} (rotated?)", " plain"])
    lines = redact(diff).text.splitlines()
    assert lines[-3:] == [f"-{REDACTED}", f"+{REDACTED}", " plain"]


def test_an_allowlist_pragma_does_not_keep_a_secret() -> None:
    diff = file_diff("train.py", [f'+secret = "{AWS_SECRET}"  # pragma: allowlist secret'])
    assert AWS_SECRET not in redact(diff).text


def test_a_private_key_block_is_blanked_whole_and_counted() -> None:
    diff = "+-----BEGIN PRIVATE KEY-----\n+MIIEvQIBADANBg\n+-----END PRIVATE KEY-----\n context\n"
    result = redact(diff)
    assert "MIIEvQIBADANBg" not in result.text
    assert result.text.endswith(" context\n")
    assert result.lines == 3


def test_ordinary_code_is_kept() -> None:
    lines = [
        "+learning_rate = 0.01  # tokens per batch: 4096",
        "+tokenizer = AutoTokenizer.from_pretrained(name)",
        "+max_tokens = 512",
        "+model = build(cfg)",
        "+for step, batch in enumerate(loader):",
        "+parser.add_argument('--epochs', type=int, default=3)",
        "+mkdir -p runs/exp1",
    ]
    diff = file_diff("train.py", lines)
    result = redact(diff)
    assert result.text == diff
    assert result.lines == 0


def test_empty_text_is_redacted_to_itself() -> None:
    assert redact("") == redact("") and redact("").text == "" and redact("").lines == 0


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("aws_secret_access_key", True),
        ("apiKey", True),
        ("DB_PASSWORD", True),
        ("DB_PASS", True),
        ("PGPASSWORD", True),
        ("X-API-Key", True),
        ("auth", True),
        ("batch_size", False),
        ("tokenizer", False),
        ("max_tokens", False),
        ("bypass", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_detect_secrets_is_imported_only_for_a_diff() -> None:
    code = (
        "import sys\n"
        "import sagemaker_launcher.spec.record\n"
        "from sagemaker_launcher.spec.redaction import redact\n"
        "redact('')\n"
        "assert 'detect_secrets' not in sys.modules, 'imported too early'\n"
        "redact('+lr = 1\\n')\n"
        "assert 'detect_secrets' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)


def test_a_diff_of_five_thousand_lines_over_ten_files_loses_only_its_secrets() -> None:
    body = []
    for number in range(1000):
        body += [
            f"+    loss_{number} = criterion(model(batch['x']), batch['y'])",
            f"-    model = build_model(cfg, layers={number})",
            f"     for batch in loader:  # step {number}",
            f"+    logger.info('epoch %d accuracy %.3f', epoch, acc_{number})",
            f"+    token_{number} = 'Zx9Qw8Er7Ty6Ui5Op4As3Df{number:04d}'",
        ]
    diff = "".join(file_diff(f"pkg/m{part}.py", body[part * 500 : (part + 1) * 500]) for part in range(10))
    assert diff.count("\n") > 5000
    result = redact(diff)
    assert result.lines == 1000
    assert "Zx9Qw8Er7Ty6" not in result.text
