"""SageMaker SDK 2.x local mode runs the project image on the provisioned Docker engine, end to end.

No launcher involved: this pins down what the engine, `sm-launcher-training:local` and the SDK do
together, for one host and for two hosts that meet over the `sagemaker-local` network.
"""

import contextlib
import json
import signal
import tarfile
import textwrap
from pathlib import Path

import pytest
from support.docker import TRAINING_IMAGE, remove_local_mode_leftovers, require_image

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
# A cold fit takes a few seconds; a hung container (a breakpoint, a barrier nobody reaches) must
# not hang the suite.
FIT_TIMEOUT_S = 240

# Each host writes <host>.json into the model dir, then all hosts meet at a final TCP barrier on
# the first host: with --abort-on-container-exit the first container to exit stops the others,
# so nobody may exit before everyone has written its files.
TRAIN_SCRIPT = textwrap.dedent(
    """
    import json, os, socket, time

    import torch

    hosts = json.loads(os.environ["SM_HOSTS"])
    me = os.environ["SM_CURRENT_HOST"]
    with open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "data.txt")) as f:
        data = f.read()
    record = {
        "host": me,
        "hosts": hosts,
        "data": data,
        "epochs": os.environ["SM_HP_EPOCHS"],
        "torch": torch.__version__,
        "sum": float(torch.arange(4.0).sum()),
    }
    with open(os.path.join(os.environ["SM_MODEL_DIR"], me + ".json"), "w") as f:
        json.dump(record, f)

    PORT = 29511
    if me == hosts[0]:
        with socket.create_server(("", PORT)) as server:
            server.settimeout(120)
            for _ in hosts[1:]:
                conn, _ = server.accept()
                with conn:
                    conn.sendall(b"done")
    else:
        deadline = time.time() + 120
        while True:
            try:
                with socket.create_connection((hosts[0], PORT), timeout=5) as conn:
                    assert conn.recv(4) == b"done"
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
    print("host", me, "finished", flush=True)
    """
)


@contextlib.contextmanager
def _deadline(seconds: int):
    """Raise TimeoutError in the main thread after `seconds` (pytest has no timeout plugin here)."""

    def _expire(signum, frame):
        raise TimeoutError(f"local-mode fit did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, _expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def sdk_env(tmp_path, monkeypatch):
    """Environment for an offline SDK: no telemetry, no banner, a region and dummy keys."""
    config = tmp_path / "sdk-config.yaml"
    config.write_text(
        'SchemaVersion: "1.0"\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n'
    )
    monkeypatch.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", str(config))
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _fit(workdir: Path, instance_count: int) -> dict[str, dict]:
    """Fit the tiny script in local mode; return the model artifact's <host>.json records."""
    from sagemaker.estimator import Estimator
    from sagemaker.local import LocalSession

    source_dir = workdir / "code"
    source_dir.mkdir()
    (source_dir / "main.py").write_text(TRAIN_SCRIPT)
    train_dir = workdir / "train"
    train_dir.mkdir()
    (train_dir / "data.txt").write_text("hello from the train channel")
    output_dir = workdir / "output"
    output_dir.mkdir()
    container_root = workdir / "containers"
    container_root.mkdir()

    session = LocalSession()
    session.config = {"local": {"local_code": True, "container_root": str(container_root)}}
    estimator = Estimator(
        image_uri=TRAINING_IMAGE,
        role=ROLE,
        instance_count=instance_count,
        instance_type="local",
        output_path=f"file://{output_dir}",
        source_dir=str(source_dir),
        entry_point="main.py",
        hyperparameters={"epochs": 3},
        sagemaker_session=session,
    )
    try:
        with _deadline(FIT_TIMEOUT_S):
            estimator.fit({"train": f"file://{train_dir}"}, wait=True, logs=True)
    finally:
        remove_local_mode_leftovers(str(container_root))

    artifacts = list(output_dir.rglob("model.tar.gz"))
    assert len(artifacts) == 1, f"expected one model.tar.gz under {output_dir}, found {artifacts}"
    records = {}
    with tarfile.open(artifacts[0]) as tar:
        for member in tar.getmembers():
            if member.name.endswith(".json"):
                record = json.load(tar.extractfile(member))
                records[record["host"]] = record
    return records


def _check_record(record: dict, hosts: list[str]) -> None:
    assert record["hosts"] == hosts
    assert record["data"] == "hello from the train channel"
    assert record["epochs"] == "3"
    assert record["torch"].startswith("2.")
    assert record["sum"] == 6.0


def test_single_host_fit_writes_model_artifact(sdk_env):
    require_image(TRAINING_IMAGE)
    records = _fit(sdk_env, instance_count=1)
    assert len(records) == 1
    (record,) = records.values()
    _check_record(record, record["hosts"])
    assert len(record["hosts"]) == 1


def test_two_host_fit_keeps_every_host_files(sdk_env):
    require_image(TRAINING_IMAGE)
    records = _fit(sdk_env, instance_count=2)
    assert len(records) == 2, f"expected a record from each host, got {sorted(records)}"
    hosts = next(iter(records.values()))["hosts"]
    assert sorted(records) == sorted(hosts)
    for record in records.values():
        _check_record(record, hosts)
