#!/bin/sh
# Countersign exec handler example: the rollback of rotate.sh. Runs with COUNTERSIGN_ROLLBACK=1 and the result of the
# job that executed the change in COUNTERSIGN_ORIGINAL_RESULT ({"exit_code":0,"output":"…","result":{…}}, the
# "result" being rotate.sh's last line). Puts the previous fake access key id back in ./state/<user>.key.
set -eu

user=$(node -e '
  const t = JSON.parse(require("fs").readFileSync(0, "utf8"));
  if (typeof t.iam_user !== "string" || !/^[A-Za-z0-9+=,.@_-]{1,64}$/.test(t.iam_user)) process.exit(1);
  process.stdout.write(t.iam_user);
') || { echo "target.iam_user is missing or not an IAM user name" >&2; exit 2; }

old=$(node -e '
  const r = JSON.parse(process.env.COUNTERSIGN_ORIGINAL_RESULT || "null");
  const id = r && r.result && r.result.old_access_key_id;
  if (typeof id !== "string" || !/^[A-Za-z0-9]{1,128}$/.test(id)) process.exit(1);
  process.stdout.write(id);
') || { echo "the original result carries no old_access_key_id: nothing to restore" >&2; exit 4; }

mkdir -p state
# --- instead of AWS: put the previous key id back (none: the user had no key before) ---
if [ "$old" = "none" ]; then
  rm -f "state/$user.key"
else
  printf '%s\n' "$old" > "state/$user.key.tmp"
  mv "state/$user.key.tmp" "state/$user.key"
fi
printf '%s restore request=%s user=%s key=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$COUNTERSIGN_REQUEST_ID" "$user" "$old" >> state/history.log
# ---

echo "restored the access key of $user to $old"
printf '{"iam_user":"%s","restored_access_key_id":"%s"}\n' "$user" "$old"
