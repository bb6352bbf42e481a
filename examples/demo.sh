#!/usr/bin/env bash
# The main job on the embedded default: a standard petition case in ./flowengine.db
# (SQLite), started, fired, extended, ticked past its deadline, replayed and verified,
# all from the command line. Times are given with --at so the run is the same every time.
set -euo pipefail
cd "$(dirname "$0")/.."
export FLOWENGINE_DB="${FLOWENGINE_DB:-sqlite:///flowengine.db}"
fe() { echo "\$ flowengine $*" >&2; flowengine "$@"; }

fe validate processes/standard_case.yaml processes/five_step.yaml processes/medical_dispute.yaml
fe db upgrade
case_id=$(fe case start standard_case --actor 王芳 --role clerk --at 2026-08-03T09:00 \
  --set petitioner=张三 --set subject="小区夜间施工噪音扰民" --set contact=13800000000)
echo "started $case_id"
fe case fire "$case_id" accept --actor 王芳 --role clerk --at 2026-08-04T10:00
fe case fire "$case_id" investigate --actor 王芳 --role clerk --at 2026-08-04T10:05
fe case fire "$case_id" extend --actor 赵副局长 --role deputy_leader --at 2026-09-25T09:00 \
  --set reason="需要现场监测夜间噪音" --set days=10
fe tick --now 2026-10-20T09:00          # the extended 60 days ran out on 10-19: overdue, 督办
fe case show "$case_id"
fe case fire "$case_id" draft_reply --actor 王芳 --role clerk --at 2026-10-21T09:00 \
  --set claim="请求制止夜间施工" --set findings="夜间施工属实，已责令整改" \
  --set proposed_result=supported --set legal_basis="《环境噪声污染防治法》第三十条"
fe replay "$case_id"
fe audit verify
fe report

# The same office today, without --at: a petition accepted now has its 60 days counted on
# the provisional calendar wherever they reach a year whose holiday arrangement the State
# Council has not published yet (the due date says so), and is recounted by `tick` or
# `flowengine calendar reconcile` once that year's calendar file is loaded.
today_id=$(fe case start standard_case --actor 李娜 --role clerk \
  --set petitioner="李四" --set subject="冬季供暖温度不达标")
fe case fire "$today_id" accept --actor 李娜 --role clerk
fe case show "$today_id"
