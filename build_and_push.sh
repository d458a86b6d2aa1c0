#!/usr/bin/env bash
# Build the training image, push it to the account's ECR under the given tag and the git commit,
# and print the URI to put in an experiment config (IMAGE.URI). The AWS calls go through boto3
# (scripts/ecr_registry.py), so the aws CLI is not needed and AWS_ENDPOINT_URL is honoured.
# Run with --help for usage.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HELPER="$SCRIPT_DIR/scripts/ecr_registry.py"
PROG="$0"

# Repository names as ECR accepts them (lowercase path components), and docker's tag syntax.
NAME_PATTERN='^([a-z0-9]+([._-][a-z0-9]+)*/)*[a-z0-9]+([._-][a-z0-9]+)*$'
TAG_PATTERN='^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$'
REGISTRY_PATTERN='^[A-Za-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)*$'
# An ECR registry host, e.g. 763104351884.dkr.ecr.us-east-1.amazonaws.com (AWS's prebuilt images).
ECR_HOST_PATTERN='^([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$'

usage() {
    cat <<EOF
usage: $PROG [options] IMAGE_NAME TAG DOCKERFILE

Build DOCKERFILE, tag the image IMAGE_NAME:TAG and IMAGE_NAME:<git commit>, push both to the
account's ECR (creating the repository when it is missing) and print the image URI on stdout.

Arguments:
  IMAGE_NAME  ECR repository name, e.g. digits-training (IMAGE.REPOSITORY in a config)
  TAG         image tag, e.g. v1 (IMAGE.TAG); the second tag is the short commit of the build
              context's git checkout, with -dirty when it has uncommitted or untracked files
  DOCKERFILE  the Dockerfile, e.g. Dockerfile.sagemaker

Options:
  --region REGION         AWS region [the AWS configuration's: AWS_REGION, AWS_DEFAULT_REGION,
                          the profile in ~/.aws/config]
  --account ACCOUNT       account whose ECR receives the image [the caller's, from STS]
  --registry HOST[:PORT]  push to this registry instead of the account's ECR, e.g. a mirror or a
                          local registry; no login is made to it (run docker login first if it
                          needs one); the ECR repository is still created
  --build-arg KEY=VALUE   passed to docker build; repeatable
  --context DIR           build context [the directory holding DOCKERFILE]
  --local                 build and tag locally only: no AWS, no login, no push
  -h, --help              show this help

Before building, it logs in to the ECR registry the base image comes from when that is one
(AWS's prebuilt images live in 763104351884.dkr.ecr.REGION.amazonaws.com). The base image is
BASE_IMAGE from --build-arg, else the Dockerfile's ARG BASE_IMAGE default, else its first FROM,
with \${REGION} replaced; a base from anywhere else gets no login. REGION is passed as a build arg
when the Dockerfile declares ARG REGION and --build-arg does not set it.

Output: the URI of IMAGE_NAME:TAG on stdout; progress and errors on stderr. Exit status 2 for
wrong arguments, 1 for any other failure.

Environment:
  BUILD_AND_PUSH_PYTHON  a Python with boto3 [.venv/bin/python beside this script, else python3]
  AWS_PROFILE, AWS_ENDPOINT_URL, ...  read by boto3 as usual
  DOCKER_HOST, DOCKER_CONFIG          read by docker as usual

Examples:
  $PROG digits-training v1 Dockerfile.sagemaker
  $PROG --region eu-west-1 digits-training v1 Dockerfile.sagemaker
  $PROG --local --build-arg BASE_IMAGE=sm-launcher-base:py311 digits-training dev Dockerfile.sagemaker
EOF
}

log() { printf '[build_and_push] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
usage_error() {
    log "error: $*"
    usage >&2
    exit 2
}

# The last non-empty line of a command's output, for a one-line error.
last_line() { printf '%s\n' "$1" | awk 'NF {line = $0} END {print line}'; }

# --- arguments ----------------------------------------------------------------------------------

REGION=""
ACCOUNT=""
REGISTRY=""
CONTEXT=""
LOCAL=0
BUILD_ARGS=()
POSITIONAL=()

# The value of option $1 given as "$1 VALUE" ($2 is what follows it).
option_value() {
    [[ $# -ge 2 && -n "$2" && "$2" != --* ]] || usage_error "$1 needs a value"
    printf '%s' "$2"
}

while (($# > 0)); do
    case "$1" in
        -h | --help)
            usage
            exit 0
            ;;
        --local) LOCAL=1 ;;
        --region | --account | --registry | --build-arg | --context)
            value="$(option_value "$@")" || exit 2
            case "$1" in
                --region) REGION="$value" ;;
                --account) ACCOUNT="$value" ;;
                --registry) REGISTRY="$value" ;;
                --build-arg) BUILD_ARGS+=("$value") ;;
                --context) CONTEXT="$value" ;;
            esac
            shift
            ;;
        --region=* | --account=* | --registry=* | --build-arg=* | --context=*)
            set -- "${1%%=*}" "${1#*=}" "${@:2}"
            continue
            ;;
        --)
            shift
            POSITIONAL+=("$@")
            break
            ;;
        -*) usage_error "unknown option $1" ;;
        *) POSITIONAL+=("$1") ;;
    esac
    shift
done

((${#POSITIONAL[@]} == 3)) || usage_error "expected IMAGE_NAME TAG DOCKERFILE, got ${#POSITIONAL[@]} argument(s)"
IMAGE_NAME="${POSITIONAL[0]}"
TAG="${POSITIONAL[1]}"
DOCKERFILE="${POSITIONAL[2]}"

[[ "$IMAGE_NAME" =~ $NAME_PATTERN && ${#IMAGE_NAME} -ge 2 && ${#IMAGE_NAME} -le 256 ]] ||
    usage_error "IMAGE_NAME '$IMAGE_NAME' is not a valid ECR repository name (2-256 lowercase letters, digits, '.', '_', '-', '/'), e.g. digits-training"
[[ "$TAG" =~ $TAG_PATTERN ]] ||
    usage_error "TAG '$TAG' is not a valid image tag (letters, digits, '_', '.', '-'; at most 128), e.g. v1"
[[ -z "$REGISTRY" || "$REGISTRY" =~ $REGISTRY_PATTERN ]] ||
    usage_error "--registry '$REGISTRY' is not HOST[:PORT][/PATH], e.g. 127.0.0.1:5000"
[[ -z "$REGION" || "$REGION" =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] || usage_error "--region '$REGION' is not an AWS region, e.g. us-east-1"
[[ -z "$ACCOUNT" || "$ACCOUNT" =~ ^[0-9]{12}$ ]] || usage_error "--account '$ACCOUNT' is not a 12-digit AWS account"
for arg in "${BUILD_ARGS[@]}"; do
    [[ "$arg" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || usage_error "--build-arg '$arg' is not KEY=VALUE"
done
if ((LOCAL)) && [[ -n "$REGISTRY$ACCOUNT" ]]; then
    usage_error "--local pushes nothing: it takes no --registry or --account"
fi

[[ -f "$DOCKERFILE" ]] || die "Dockerfile not found: $DOCKERFILE (give its path, e.g. Dockerfile.sagemaker)"
CONTEXT="${CONTEXT:-$(dirname "$DOCKERFILE")}"
[[ -d "$CONTEXT" ]] || die "build context is not a directory: $CONTEXT"

# --- helpers ------------------------------------------------------------------------------------

if [[ -n "${BUILD_AND_PUSH_PYTHON:-}" ]]; then
    PYTHON="$BUILD_AND_PUSH_PYTHON"
elif [[ -x "$SCRIPT_DIR/.venv/bin/python" ]]; then
    PYTHON="$SCRIPT_DIR/.venv/bin/python"
else
    PYTHON="python3"
fi

# scripts/ecr_registry.py COMMAND ...: prints the answer, or its own error line and fails.
aws_call() { "$PYTHON" "$HELPER" "$@"; }

# The last --build-arg value for KEY, or nothing.
build_arg() {
    local arg value=""
    for arg in "${BUILD_ARGS[@]}"; do
        if [[ "$arg" == "$1="* ]]; then
            value="${arg#"$1"=}"
        fi
    done
    printf '%s' "$value"
}

# True when the Dockerfile declares ARG NAME (with or without a default).
dockerfile_declares() { grep -Eiq "^[[:space:]]*ARG[[:space:]]+$1([=[:space:]]|$)" "$DOCKERFILE"; }

# The image the build starts from, as far as the Dockerfile and --build-arg tell; REGION is
# substituted, any other variable left in place.
base_image() {
    local image region="$1"
    image="$(build_arg BASE_IMAGE)"
    if [[ -z "$image" ]]; then
        image="$(sed -nE 's/^[[:space:]]*[Aa][Rr][Gg][[:space:]]+BASE_IMAGE=([^[:space:]]+).*/\1/p' "$DOCKERFILE" | head -n 1)"
        image="${image//\"/}"
    fi
    if [[ -z "$image" ]]; then
        image="$(awk 'toupper($1) == "FROM" { for (i = 2; i <= NF; i++) if ($i !~ /^--/) { print $i; exit } }' "$DOCKERFILE")"
    fi
    image="${image//\$\{REGION\}/$region}"
    printf '%s' "${image//\$REGION/$region}"
}

# docker login to ECR registry HOST of account ID in REGION, with a token from boto3.
ecr_login() {
    local host="$1" region="$2" id="$3" password output
    password="$(aws_call login-password --region "$region" --registry-id "$id")" || exit 1
    if ! output="$(printf '%s' "$password" | docker login --username AWS --password-stdin "$host" 2>&1)"; then
        die "docker login to $host failed: $(last_line "$output")"
    fi
    log "logged in to $host"
}

push() {
    local output
    log "pushing $1"
    if ! output="$(docker push --quiet "$1" 2>&1)"; then
        die "docker push $1 failed: $(last_line "$output")"
    fi
}

# --- checks before any work ---------------------------------------------------------------------

command -v docker >/dev/null || die "the docker command is not installed or not on PATH: install Docker"
if ! output="$(timeout 30 docker info 2>&1 >/dev/null)"; then
    die "no Docker engine answers at ${DOCKER_HOST:-the default socket} ($(last_line "$output")): start the engine, e.g. bash scripts/provision_docker.sh start"
fi

command -v git >/dev/null || die "the git command is not installed: the commit tag needs it"
commit="$(git -C "$CONTEXT" rev-parse --short HEAD 2>/dev/null)" ||
    die "cannot tag with the git commit: $CONTEXT is not in a git checkout with a commit"
if [[ -n "$(git -C "$CONTEXT" status --porcelain 2>/dev/null)" ]]; then
    COMMIT_TAG="$commit-dirty"
    log "the checkout has uncommitted or untracked files: the commit tag $COMMIT_TAG does not pin the code"
else
    COMMIT_TAG="$commit"
fi

if ((!LOCAL)); then
    identity="$(aws_call identity ${REGION:+--region "$REGION"} ${ACCOUNT:+--account "$ACCOUNT"})" || exit 1
    read -r REGION ACCOUNT <<<"$identity"
    log "region $REGION, account $ACCOUNT"
fi

# --- build --------------------------------------------------------------------------------------

if [[ -n "$REGION" && -z "$(build_arg REGION)" ]] && dockerfile_declares REGION; then
    BUILD_ARGS+=("REGION=$REGION")
fi
BASE="$(base_image "$(build_arg REGION)")"
base_host="${BASE%%/*}"
if ((LOCAL)); then
    log "base image $BASE (--local: no registry login)"
elif [[ "$BASE" == */* && "$base_host" =~ $ECR_HOST_PATTERN ]]; then
    ecr_login "$base_host" "${BASH_REMATCH[2]}" "${BASH_REMATCH[1]}"
else
    log "base image $BASE is not in ECR: no login for it"
fi

build_command=(docker build -f "$DOCKERFILE" -t "$IMAGE_NAME:$TAG" -t "$IMAGE_NAME:$COMMIT_TAG")
for arg in "${BUILD_ARGS[@]}"; do
    build_command+=(--build-arg "$arg")
done
log "building $IMAGE_NAME:$TAG and $IMAGE_NAME:$COMMIT_TAG from $DOCKERFILE (context $CONTEXT)"
"${build_command[@]}" "$CONTEXT" >&2 || die "docker build failed (its output is above)"

if ((LOCAL)); then
    log "built $IMAGE_NAME:$TAG and $IMAGE_NAME:$COMMIT_TAG; for local modes set IMAGE.URI: $IMAGE_NAME:$TAG"
    printf '%s\n' "$IMAGE_NAME:$TAG"
    exit 0
fi

# --- push ---------------------------------------------------------------------------------------

repository_uri="$(aws_call ensure-repository --region "$REGION" --account "$ACCOUNT" --name "$IMAGE_NAME")" || exit 1
if [[ -n "$REGISTRY" ]]; then
    target="$REGISTRY/$IMAGE_NAME"
    log "pushing to $REGISTRY instead of the account's ECR ($repository_uri)"
else
    target="$repository_uri"
    ecr_login "${target%%/*}" "$REGION" "$ACCOUNT"
fi

for tag in "$TAG" "$COMMIT_TAG"; do
    docker tag "$IMAGE_NAME:$tag" "$target:$tag"
    push "$target:$tag"
done

log "pushed $target:$TAG and $target:$COMMIT_TAG"
log "in an experiment config: IMAGE.URI: $target:$TAG (or $target:$COMMIT_TAG to pin this commit)"
if [[ -z "$REGISTRY" ]]; then
    log "or, in the role's account and SAGEMAKER.REGION: IMAGE.REPOSITORY: $IMAGE_NAME, IMAGE.TAG: $TAG"
fi
printf '%s\n' "$target:$TAG"
