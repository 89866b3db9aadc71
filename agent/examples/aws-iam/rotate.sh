#!/bin/sh
# Countersign exec handler example: "rotate an IAM user's access key" for aws.rotate_iam_access_key.
# It calls no AWS API: it keeps a fake access key id per user in ./state/<user>.key (next to this script: the agent
# runs every command in the config file's folder) and appends to ./state/history.log. Replace the marked lines with
# `aws iam create-access-key …` to make it real.
#
# In:  the target on stdin, e.g. {"iam_user":"deploy-bot"}; settings as COUNTERSIGN_SETTING_REGION and
#      COUNTERSIGN_SETTING_SECRET_ACCESS_KEY.
# Out: progress lines, then one JSON object on the last line: the job's result.result, handed back to restore.sh
#      (in COUNTERSIGN_ORIGINAL_RESULT) if the change is rolled back. Exit non-zero to fail the job; stderr explains.
set -eu

# Node is there (the agent runs on it); `jq -r .iam_user` works as well.
user=$(node -e '
  const t = JSON.parse(require("fs").readFileSync(0, "utf8"));
  if (typeof t.iam_user !== "string" || !/^[A-Za-z0-9+=,.@_-]{1,64}$/.test(t.iam_user)) process.exit(1);
  process.stdout.write(t.iam_user);
') || { echo "target.iam_user is missing or not an IAM user name" >&2; exit 2; }

if [ -z "${COUNTERSIGN_SETTING_SECRET_ACCESS_KEY:-}" ]; then
  echo "the plugin setting secret_access_key is not set" >&2
  exit 3
fi

mkdir -p state
old=$(cat "state/$user.key" 2>/dev/null || echo "none")
# --- instead of AWS: a new fake access key id ---
new="AKIA$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n' | tr 'a-f' 'A-F')"
printf '%s\n' "$new" > "state/$user.key.tmp"
mv "state/$user.key.tmp" "state/$user.key"
printf '%s rotate request=%s user=%s old=%s new=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$COUNTERSIGN_REQUEST_ID" "$user" "$old" "$new" >> state/history.log
# ---

echo "rotated the access key of $user: $old -> $new"
printf '{"iam_user":"%s","old_access_key_id":"%s","new_access_key_id":"%s"}\n' "$user" "$old" "$new"
