"""Surprising and hostile input: YAML values as written, files built to hang or crash the loader, and
requests the service would refuse only after the uploads.

Every refusal runs the real command against the loopback endpoint: exit 1, one line of message, no
traceback, no training job and no S3 object.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from support.aws import s3_keys, s3_text, training_jobs
from support.commands import REPO_ROOT, run_cli

from sagemaker_launcher.config.loading import load_configs
from sagemaker_launcher.config.validation import validate
from sagemaker_launcher.spec import service_model

EXAMPLE = str(REPO_ROOT / "configs/sagemaker_config.yaml")


def experiment(tmp_path: Path, text: str, name: str = "exp.yaml") -> Path:
    """An experiment file extending the example, with ``text`` written exactly as given after it."""
    path = tmp_path / name
    path.write_text(f"_BASE_: {EXAMPLE}\n{text}", encoding="utf-8")
    return path


def assert_refused(result: Result, *expected: str) -> None:
    """Exit 1 with one short paragraph naming the problem, and nothing created on the endpoint."""
    output = result.output
    assert result.exit_code == 1, output
    assert output.startswith("Error: ") and "Traceback" not in output, output
    assert len(output.strip().splitlines()) == 1 and len(output) < 1000, output[:2000]
    for text in expected:
        assert text in output, output
    assert training_jobs() == [] and s3_keys() == []


# --------------------------------------------------------------------------------------------- #
# Values as written
# --------------------------------------------------------------------------------------------- #


def test_text_keys_and_free_form_sections_reach_the_job_exactly_as_written(aws: str, tmp_path: Path) -> None:
    config = experiment(
        tmp_path,
        "IMAGE:\n  TAG: 1.10\n"
        "SAGEMAKER:\n"
        "  ENVIRONMENT: {OCTAL: 010, CLOCK: 12:30, SWITCH: off, HEX: 0x1F}\n"
        "  TAGS: {release: 1.10, nightly: off, window: 12:30, build: 010}\n",
    )
    import boto3

    run_cli("--config", str(config))

    [job] = training_jobs()
    assert job["AlgorithmSpecification"]["TrainingImage"].endswith("/digits-training:1.10")
    tags = boto3.client("sagemaker").list_tags(ResourceArn=job["TrainingJobArn"])["Tags"]
    assert {tag["Key"]: tag["Value"] for tag in tags if not tag["Key"].startswith("sm-launcher:")} == {
        "team": "vision",
        "release": "1.10",
        "nightly": "off",
        "window": "12:30",
        "build": "010",
    }
    [request_key] = [key for key in s3_keys() if key.endswith("config/request.json")]
    environment = json.loads(s3_text(request_key))["Environment"]
    assert {name: environment[name] for name in ("OCTAL", "CLOCK", "SWITCH", "HEX")} == {
        "OCTAL": "010",
        "CLOCK": "12:30",
        "SWITCH": "off",
        "HEX": "0x1F",
    }


def test_files_and_command_line_agree_text_where_text_is_due_types_elsewhere(tmp_path: Path) -> None:
    training = tmp_path / "train.yaml"
    training.write_text("DATA:\n  FILE_NAME: 2024.10\nSOLVER:\n  BASE_LR: 1e-3\n  EPOCHS: 0x10\n")
    config = tmp_path / "sm.yaml"
    config.write_text(
        "TRAINING: {DEFAULTS: ''}\n"
        "IMAGE: {TAG: 1.10}\n"
        "SAGEMAKER:\n  INSTANCE_COUNT: 0x2\n  USE_SPOT_INSTANCES: off\n"
        "  TAGS: {on: yes, 010: true, quoted: '1.10'}\n"
        "HYPERPARAMETERS: {lr: 0.050, mode: off, epochs: 10, seed: 007}\n",
    )
    sm = load_configs(config).sagemaker
    assert sm.IMAGE.TAG == "1.10"
    assert sm.SAGEMAKER.INSTANCE_COUNT == 2 and sm.SAGEMAKER.USE_SPOT_INSTANCES is False
    assert dict(sm.SAGEMAKER.TAGS) == {"on": "yes", "010": "true", "quoted": "1.10"}
    assert dict(sm.HYPERPARAMETERS) == {"lr": "0.050", "mode": "off", "epochs": "10", "seed": "007"}

    from_command_line = load_configs(
        None, ["IMAGE.TAG", "1.10", "HYPERPARAMETERS.lr", "0.050", "SAGEMAKER.INSTANCE_COUNT", "0x2"]
    ).sagemaker
    assert (from_command_line.IMAGE.TAG, from_command_line.HYPERPARAMETERS.lr) == ("1.10", "0.050")
    assert from_command_line.SAGEMAKER.INSTANCE_COUNT == 2

    example = load_configs(EXAMPLE, ["TRAINING.CONFIG_FILE", str(training)]).training
    assert example.DATA.FILE_NAME == "2024.10"
    assert (example.SOLVER.BASE_LR, example.SOLVER.EPOCHS) == (0.001, 16)


def test_an_empty_value_in_a_free_form_section_is_refused_not_turned_into_text(
    aws: str, tmp_path: Path
) -> None:
    config = experiment(tmp_path, "SAGEMAKER:\n  ENVIRONMENT:\n    DEBUG:\n")
    assert_refused(
        run_cli("--config", str(config), expect_exit=None),
        "'SAGEMAKER.ENVIRONMENT.DEBUG' takes one text value, got None",
        "Write empty text as ''",
    )


# --------------------------------------------------------------------------------------------- #
# Files built to hang, flood or crash the loader
# --------------------------------------------------------------------------------------------- #


def billion_laughs(levels: int = 9) -> str:
    """Nine aliases per level: about 10**levels values once expanded, from under 1 KB of YAML."""
    lines = ["    L0: &L0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels + 1):
        aliases = ", ".join([f"*L{level - 1}"] * 9)
        lines.append(f"    L{level}: &L{level} [{aliases}]")
    return "SAGEMAKER:\n  ENVIRONMENT:\n" + "\n".join(lines) + "\n"


HOSTILE_FILES = {
    "alias-bomb": (billion_laughs(), "counting the values of each alias (here *L"),
    "alias-of-a-long-text": (
        "SAGEMAKER:\n  TAGS:\n    a: &a " + "x" * 100_000 + "\n    b: [" + ", ".join(["*a"] * 40) + "]\n",
        "characters of text, counting the values of each alias (here *a) again",
    ),
    "merge-key-bomb": (
        "SAGEMAKER:\n  ENVIRONMENT:\n    A: &A {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9}\n"
        + "".join(
            f"    {chr(66 + i)}: &{chr(66 + i)} {{<<: [{', '.join([f'*{chr(65 + i)}'] * 9)}]}}\n"
            for i in range(9)
        ),
        "counting the values of each alias",
    ),
    "alias-inside-itself": (
        "SAGEMAKER:\n  TAGS:\n    a: &a [x, *a]\n",
        "the alias *a is used inside the value",
    ),
    "deep-nesting": (
        "SAGEMAKER:\n  TAGS:\n    a: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "nested more than",
    ),
    "list-as-key": ("SAGEMAKER:\n  ? [a, b]\n  : 1\n", "keys must be plain names"),
    "unknown-tag": ("SAGEMAKER:\n  TAGS:\n    a: !shell rm\n", "the tag !shell is refused"),
    "control-character": ("SAGEMAKER:\n  TAGS:\n    a: x\x07y\n", "control character U+0007"),
    "long-unknown-key": (f"SAGEMAKER:\n  ? {'K' * 50_000}\n  : 1\n", "unknown key 'SAGEMAKER.KKKK"),
    "long-wrong-value": (f"SAGEMAKER:\n  INSTANCE_COUNT: '{'x' * 50_000}'\n", "must be a whole number"),
}


@pytest.mark.parametrize(("text", "expected"), HOSTILE_FILES.values(), ids=HOSTILE_FILES.keys())
def test_hostile_yaml_is_refused_quickly_in_one_short_paragraph(
    aws: str, tmp_path: Path, text: str, expected: str
) -> None:
    config = experiment(tmp_path, text)
    started = time.perf_counter()
    result = run_cli("--config", str(config), expect_exit=None)
    assert time.perf_counter() - started < 2
    assert_refused(result, str(config), expected)


def test_a_50_mb_file_is_refused_before_it_is_parsed(aws: str, tmp_path: Path) -> None:
    config = experiment(tmp_path, "SAGEMAKER:\n  ENVIRONMENT:\n    A: ")
    with config.open("a", encoding="utf-8") as stream:
        stream.write("x" * 50_000_000 + "\n")
    started = time.perf_counter()
    result = run_cli("--config", str(config), expect_exit=None)
    assert time.perf_counter() - started < 2
    assert_refused(result, f"{config} is {config.stat().st_size} bytes", "at most 1048576 (1 MiB)")


def test_the_training_config_gets_the_same_bounds(aws: str, tmp_path: Path) -> None:
    training = tmp_path / "train.yaml"
    training.write_text(billion_laughs().replace("SAGEMAKER:\n  ENVIRONMENT:", "MODEL:\n  CONV_CHANNELS:"))
    result = run_cli("--config", EXAMPLE, "TRAINING.CONFIG_FILE", str(training), expect_exit=None)
    assert_refused(result, str(training), "counting the values of each alias")


def test_a_command_line_value_gets_the_same_bounds(aws: str) -> None:
    levels = ["&L0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    levels += [f"&L{level} [{', '.join([f'*L{level - 1}'] * 9)}]" for level in range(1, 10)]
    started = time.perf_counter()
    result = run_cli("--config", EXAMPLE, "MODEL.CONV_CHANNELS", f"[{', '.join(levels)}]", expect_exit=None)
    assert time.perf_counter() - started < 2
    assert_refused(
        result, "for 'MODEL.CONV_CHANNELS' on the command line is refused", "more than 50000 values"
    )


def test_a_file_that_is_not_utf8_is_named_with_the_byte(aws: str, tmp_path: Path) -> None:
    config = tmp_path / "latin1.yaml"
    config.write_bytes(f"_BASE_: {EXAMPLE}\nSAGEMAKER:\n  TAGS:\n    team: caf\xe9\n".encode("latin-1"))
    offset = config.read_bytes().index(b"\xe9")
    assert_refused(
        run_cli("--config", str(config), expect_exit=None),
        f"{config}, line 4: byte {offset} (0xe9) is not UTF-8 text",
        "save the file as UTF-8",
    )


# --------------------------------------------------------------------------------------------- #
# Requests the service would refuse only after the uploads
# --------------------------------------------------------------------------------------------- #


@pytest.fixture
def unix_socket(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    yield path
    server.close()


def test_an_input_that_is_a_device_pipe_or_socket_is_refused(
    aws: str, tmp_path: Path, unix_socket: Path
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path, kind in (
        ("/dev/zero", "a character device"),
        (str(fifo), "a named pipe (FIFO)"),
        (str(unix_socket), "a socket"),
    ):
        assert_refused(
            run_cli("--config", EXAMPLE, "INPUTS.train", path, expect_exit=None),
            f"INPUTS.train = '{path}' is {kind}, not a file or folder of files",
        )


def test_an_input_folder_without_a_file_is_refused(aws: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    hollow = tmp_path / "hollow"
    (hollow / "a" / "b").mkdir(parents=True)
    (hollow / "c").mkdir()
    os.mkfifo(hollow / "a" / "pipe")
    for folder in (empty, hollow):
        assert_refused(
            run_cli("--config", EXAMPLE, "INPUTS.train", str(folder), expect_exit=None),
            f"INPUTS.train = '{folder}' is a folder with no file in it",
        )


def test_an_input_folder_with_one_file_deep_inside_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "data" / "a" / "b").mkdir(parents=True)
    (tmp_path / "data" / "a" / "b" / "part-0.npz").write_bytes(b"")
    validate(load_configs(EXAMPLE, ["INPUTS.train", str(tmp_path / "data")]))


@pytest.mark.parametrize(
    "value", ["a\tb", "a\nb", "a\rb", "a\x0bb"], ids=["tab", "newline", "return", "vtab"]
)
def test_a_tag_value_with_a_control_character_is_refused(aws: str, tmp_path: Path, value: str) -> None:
    assert_refused(
        run_cli("--config", EXAMPLE, "SAGEMAKER.TAGS.owner", value, expect_exit=None),
        f"SAGEMAKER.TAGS.owner = {value!r} does not fit the API's TagValue",
    )
    config = experiment(tmp_path, f"SAGEMAKER:\n  TAGS:\n    owner: {json.dumps(value)}\n")
    assert_refused(run_cli("--config", str(config), expect_exit=None), "does not fit the API's TagValue")


def test_tag_values_with_unicode_letters_digits_and_separators_are_accepted() -> None:
    value = "café Ünïcode ٣ 漢字 a\u00a0b\u2028c\u2029d\u3000e _.:/=+-@"
    validate(load_configs(EXAMPLE, ["SAGEMAKER.TAGS.owner", value, "SAGEMAKER.TAGS.Ärger", "x"]))


@pytest.mark.parametrize(
    ("shape", "text", "matches"),
    [
        ("TagValue", "a b", True),
        ("TagValue", "a\tb", False),
        ("TagValue", "a\u2028b", True),  # a line separator is in \p{Z}
        ("TagValue", "a#b", False),
        ("TagValue", "x]y", False),
        ("TagKey", "\u0301", False),  # a combining mark is \p{M}, not \p{L}
        ("RoleArn", "arn:aws:iam::123456789012:role/R", True),
        ("RoleArn", "arn:aws:iam::١٢٣٤٥٦٧٨٩٠١٢:role/R", False),  # Java's \d is ASCII
        ("MetricName", "loss", True),
        ("MetricName", "lo\rss", False),  # Java's "." stops at every line terminator
        ("MetricName", "loss\u2028", False),
        ("TrainingEnvironmentValue", "any\ttext\n", True),
        ("TrainingJobName", "a-b", True),
        ("TrainingJobName", "a_b", False),
    ],
)
def test_service_patterns_are_matched_with_javas_meaning(shape: str, text: str, matches: bool) -> None:
    assert service_model.field(shape).matches(text) is matches


@pytest.mark.parametrize(
    ("shape", "example"),
    [
        ("TagKey", "team"),
        ("TagValue", "vision"),
        ("TrainingJobName", "digits-20260102-030405-ab12"),
        ("RoleArn", "arn:aws:iam::123456789012:role/SageMakerRole"),
        ("ChannelName", "train"),
        ("MetricName", "validation:accuracy"),
        ("MetricRegex", r"accuracy=([0-9.]+)"),
        ("KmsKeyId", "alias/my-key"),
        ("SubnetId", "subnet-0abc"),
        ("SecurityGroupId", "sg-0abc"),
        ("TrainingEnvironmentKey", "DEBUG"),
    ],
)
def test_every_pattern_the_launcher_checks_takes_a_usual_value_and_no_line_break(
    shape: str, example: str
) -> None:
    limits = service_model.field(shape)
    assert limits.matches(example)
    assert not limits.matches(f"{example}\n")
