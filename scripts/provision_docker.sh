#!/usr/bin/env bash
# Provision a Docker engine and the images that SageMaker local mode runs, on a Debian bookworm
# host with no image registry in reach (CI and developer machines alike).
#
# Usage:
#   bash scripts/provision_docker.sh start    # engine up, base image, project image (idempotent)
#   bash scripts/provision_docker.sh stop     # stop the dockerd that `start` launched
#   bash scripts/provision_docker.sh status   # say whether the engine answers and the images exist
#
# `start` installs docker.io and debootstrap with apt, starts dockerd with all its
# state under SM_DOCKER_HOME, builds SM_BASE_IMAGE from a debootstrap root filesystem into which
# the host's Debian python3 installs the Python packages (HTTPS fails inside containers here, so
# nothing is downloaded in a build), then builds SM_TRAINING_IMAGE from Dockerfile.sagemaker.
# A re-run reuses the cached root filesystem tarball, the base image (while its package list is
# unchanged and it satisfies sagemaker_container/requirements.txt) and Docker's layer cache.
#
# Environment (defaults in brackets):
#   SM_DOCKER_HOME     engine data, exec root, pid file, log and caches [/var/tmp/sm-launcher-docker]
#   SM_BASE_IMAGE      base image name [sm-launcher-base:py311]
#   SM_TRAINING_IMAGE  project image name [sm-launcher-training:local]
#   SM_TORCH_SPEC      torch requirement for the base image [torch==2.13.0]
#   SM_DEBIAN_MIRROR   mirror for debootstrap [the first one in the host's apt sources]
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DOCKER_HOME="${SM_DOCKER_HOME:-/var/tmp/sm-launcher-docker}"
BASE_IMAGE="${SM_BASE_IMAGE:-sm-launcher-base:py311}"
TRAINING_IMAGE="${SM_TRAINING_IMAGE:-sm-launcher-training:local}"
TORCH_SPEC="${SM_TORCH_SPEC:-torch==2.13.0}"

SUITE="bookworm"
PY_SITE="usr/local/lib/python3.11/dist-packages"
ROOTFS_INCLUDE="python3,python3-pip,ca-certificates"
APT_PACKAGES=(docker.io docker-registry debootstrap gcc python3-dev python3-pip)
# sagemaker-pytorch-training is the toolkit of AWS's PyTorch training images: it sets MASTER_ADDR and
# MASTER_PORT, reports a crashed script's error output, and starts torchrun for distributed jobs.
BASE_PACKAGES=("$TORCH_SPEC" numpy yacs PyYAML sagemaker-training sagemaker-pytorch-training)
REQUIREMENTS="$REPO_ROOT/sagemaker_container/requirements.txt"

PIDFILE="$DOCKER_HOME/dockerd.pid"
LOGFILE="$DOCKER_HOME/dockerd.log"
CACHE_DIR="$DOCKER_HOME/cache"
ROOTFS_TARBALL="$CACHE_DIR/$SUITE-minbase-${ROOTFS_INCLUDE//,/-}.tar"
BUILD_DIR="$DOCKER_HOME/build"
# Changing what goes into the base image changes this label, which forces a rebuild; bump
# BASE_RECIPE when the way it is built changes.
BASE_RECIPE=3
BASE_SPEC_LABEL="sm-launcher.base-spec"
BASE_SPEC="$BASE_RECIPE|$SUITE|$ROOTFS_INCLUDE|${BASE_PACKAGES[*]}"

log() { printf '[provision] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Run "$@" as one named step and print how long it took.
step() {
    local name="$1" start ms
    shift
    start="$(date +%s%N)"
    log "step $name: start"
    "$@"
    ms=$((($(date +%s%N) - start) / 1000000))
    log "$(printf 'step %s: done in %d.%01d s' "$name" $((ms / 1000)) $((ms % 1000 / 100)))"
}

engine_answers() { timeout 5 docker info >/dev/null 2>&1; }

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }

# Delete the images that NAME pointed at before a rebuild (given as IDs, newest first), unless a
# name still points at them; a rebuild would otherwise leave a dangling GB-sized image behind.
remove_replaced_images() {
    local id
    for id in "$@"; do
        [[ -n "$id" ]] || continue
        if [[ "$id" != "$(image_id "$BASE_IMAGE")" && "$id" != "$(image_id "$TRAINING_IMAGE")" ]]; then
            if docker rmi "$id" >/dev/null 2>&1; then
                log "removed replaced image ${id#sha256:}"
            fi
        fi
    done
}

# The pid in PIDFILE when that process is a live dockerd, else nothing.
dockerd_pid() {
    local pid
    [[ -f "$PIDFILE" ]] || return 0
    pid="$(cat "$PIDFILE")"
    if [[ -n "$pid" && "$(cat "/proc/$pid/comm" 2>/dev/null)" == "dockerd" ]]; then
        echo "$pid"
    fi
}

install_packages() {
    local missing=() pkg
    for pkg in "${APT_PACKAGES[@]}"; do
        if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]]; then
            missing+=("$pkg")
        fi
    done
    if ((${#missing[@]} == 0)); then
        log "apt packages already installed: ${APT_PACKAGES[*]}"
        return 0
    fi
    log "installing with apt: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

start_engine() {
    local pid waited
    if engine_answers; then
        log "a Docker engine already answers; not starting another"
        return 0
    fi
    pid="$(dockerd_pid)"
    if [[ -z "$pid" ]]; then
        mkdir -p "$DOCKER_HOME/data" "$DOCKER_HOME/exec"
        rm -f "$PIDFILE"
        # setsid: the engine outlives this script and the shell that ran it.
        setsid dockerd \
            --data-root="$DOCKER_HOME/data" \
            --exec-root="$DOCKER_HOME/exec" \
            --pidfile="$PIDFILE" \
            </dev/null >>"$LOGFILE" 2>&1 &
        log "started dockerd (pid $!), log in $LOGFILE"
    fi
    for ((waited = 0; waited < 120; waited++)); do
        if engine_answers; then
            log "engine answers (dockerd pid $(dockerd_pid))"
            return 0
        fi
        sleep 0.5
    done
    tail -n 20 "$LOGFILE" >&2 || true
    die "dockerd did not answer 'docker info' within 60 s; see $LOGFILE"
}

# The first Debian mirror in the host's apt sources, so debootstrap uses what apt can reach.
debian_mirror() {
    if [[ -n "${SM_DEBIAN_MIRROR:-}" ]]; then
        echo "$SM_DEBIAN_MIRROR"
    elif [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
        awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources
    elif [[ -f /etc/apt/sources.list ]]; then
        awk -v suite="$SUITE" '$1 == "deb" && $3 == suite {print $2; exit}' /etc/apt/sources.list
    fi
}

cache_rootfs_tarball() {
    local dir="$BUILD_DIR/debootstrap" mirror
    if [[ -s "$ROOTFS_TARBALL" ]]; then
        log "reusing cached root filesystem $ROOTFS_TARBALL"
        return 0
    fi
    mirror="$(debian_mirror)"
    mkdir -p "$CACHE_DIR"
    rm -rf "$dir"
    # An empty mirror argument lets debootstrap use its own default.
    debootstrap --variant=minbase --include="$ROOTFS_INCLUDE" "$SUITE" "$dir" ${mirror:+"$mirror"} >/dev/null
    rm -rf "$dir/var/cache/apt/archives/"*.deb "$dir/var/lib/apt/lists/"*
    tar -C "$dir" -cf "$ROOTFS_TARBALL.partial" .
    mv "$ROOTFS_TARBALL.partial" "$ROOTFS_TARBALL"
    rm -rf "$dir"
}

unpack_rootfs() {
    rm -rf "$BUILD_DIR/rootfs"
    mkdir -p "$BUILD_DIR/rootfs"
    tar -C "$BUILD_DIR/rootfs" -xf "$ROOTFS_TARBALL"
}

# Debian's own python3 installs into the root filesystem: same interpreter path and ABI as inside
# the image, so the toolkit's compiled extension loads and its `train` script's first line is right.
install_python_packages() {
    local rootfs="$BUILD_DIR/rootfs" target reqs=()
    target="$rootfs/$PY_SITE"
    [[ -f "$REQUIREMENTS" ]] && reqs=(-r "$REQUIREMENTS")
    PIP_BREAK_SYSTEM_PACKAGES=1 /usr/bin/python3 -m pip install --quiet --no-warn-script-location --root-user-action=ignore \
        --disable-pip-version-check --target "$target" "${BASE_PACKAGES[@]}" "${reqs[@]}"
    if [[ -d "$target/bin" ]]; then
        mkdir -p "$rootfs/usr/local/bin"
        mv "$target/bin/"* "$rootfs/usr/local/bin/"
        rmdir "$target/bin"
    fi
    [[ -x "$rootfs/usr/local/bin/train" ]] || die "sagemaker-training left no 'train' command in the image"
    if ! compgen -G "$target/torch-*+cpu.dist-info" >/dev/null; then
        log "warning: pip chose a torch build that is not '+cpu' ($(basename "$target"/torch-*.dist-info)):"
        log "warning: expect a multi-GB image; put a CPU wheel in a PIP_FIND_LINKS folder or set SM_TORCH_SPEC"
    fi
}

import_base_image() {
    local spec_hash
    spec_hash="$(printf '%s' "$BASE_SPEC" | sha256sum | cut -c1-16)"
    tar -C "$BUILD_DIR/rootfs" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'ENV PYTHONUNBUFFERED=1' \
        --change 'ENV PIP_BREAK_SYSTEM_PACKAGES=1' \
        --change 'ENV PIP_DISABLE_PIP_VERSION_CHECK=1' \
        --change 'ENV SAGEMAKER_TRAINING_MODULE=sagemaker_pytorch_container.training:main' \
        --change "LABEL $BASE_SPEC_LABEL=$spec_hash" \
        --change 'CMD ["/bin/bash"]' \
        - "$BASE_IMAGE" >/dev/null
    rm -rf "$BUILD_DIR/rootfs"
}

# True when BASE_IMAGE exists, was built from today's package list, and already satisfies the
# container requirements without any download.
base_image_current() {
    local want have
    image_exists "$BASE_IMAGE" || return 1
    want="$(printf '%s' "$BASE_SPEC" | sha256sum | cut -c1-16)"
    have="$(docker image inspect -f "{{index .Config.Labels \"$BASE_SPEC_LABEL\"}}" "$BASE_IMAGE")"
    if [[ "$have" != "$want" ]]; then
        log "base image $BASE_IMAGE was built from another package list; rebuilding"
        return 1
    fi
    [[ -f "$REQUIREMENTS" ]] || return 0
    if ! docker run --rm --network none -v "$REQUIREMENTS:/tmp/requirements.txt:ro" "$BASE_IMAGE" \
        python3 -m pip install --dry-run --no-index --quiet -r /tmp/requirements.txt >/dev/null 2>&1; then
        log "base image $BASE_IMAGE does not satisfy $REQUIREMENTS; rebuilding"
        return 1
    fi
}

build_base_image() {
    if base_image_current; then
        log "base image $BASE_IMAGE is current; skipping"
        return 0
    fi
    step debootstrap-rootfs cache_rootfs_tarball
    step unpack-rootfs unpack_rootfs
    step pip-install-into-rootfs install_python_packages
    step docker-import import_base_image
}

build_training_image() {
    [[ -f "$REQUIREMENTS" ]] || die "$REQUIREMENTS is missing; Dockerfile.sagemaker installs it"
    docker build --quiet -f "$REPO_ROOT/Dockerfile.sagemaker" \
        --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$TRAINING_IMAGE" "$REPO_ROOT" >/dev/null
}

report_images() {
    local image
    for image in "$BASE_IMAGE" "$TRAINING_IMAGE"; do
        docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' "$image" >&2
    done
}

cmd_start() {
    ((EUID == 0)) || die "run as root (apt-get, dockerd, debootstrap)"
    local old_base old_training
    mkdir -p "$DOCKER_HOME"
    step apt-install install_packages
    step start-dockerd start_engine
    old_base="$(image_id "$BASE_IMAGE")"
    old_training="$(image_id "$TRAINING_IMAGE")"
    step base-image build_base_image
    step training-image build_training_image
    remove_replaced_images "$old_training" "$old_base"
    report_images
    log "engine left running; stop it with: bash scripts/provision_docker.sh stop"
}

cmd_stop() {
    local pid waited
    pid="$(dockerd_pid)"
    if [[ -z "$pid" ]]; then
        log "no dockerd started from $DOCKER_HOME is running"
        return 0
    fi
    kill -TERM "$pid"
    for ((waited = 0; waited < 60; waited++)); do
        if [[ ! -d "/proc/$pid" ]]; then
            log "dockerd (pid $pid) stopped"
            return 0
        fi
        sleep 0.5
    done
    die "dockerd (pid $pid) still runs 30 s after SIGTERM"
}

cmd_status() {
    if engine_answers; then
        log "engine answers (dockerd pid from $PIDFILE: $(dockerd_pid))"
        report_images
    else
        log "no Docker engine answers"
        return 1
    fi
}

case "${1:-}" in
    start) step total cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *)
        echo "usage: $0 start|stop|status" >&2
        exit 2
        ;;
esac
