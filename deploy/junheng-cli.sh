#!/bin/sh
# 运维人员在服务器上运行 junheng 命令用：以 junheng 用户、按 /etc/junheng/junheng.env 的设置运行，
# 与 systemd 中的服务用同一个数据库和数据目录。安装为 /usr/local/bin/junheng：
#   sudo install -m 0755 deploy/junheng-cli.sh /usr/local/bin/junheng
# 之后直接运行，如 junheng campaign status、junheng mail test 自己的邮箱、junheng backup。
set -e
if [ "$(id -un)" != junheng ]; then
    exec sudo -u junheng "$0" "$@"
fi
set -a
. /etc/junheng/junheng.env
set +a
exec /opt/junheng/.venv/bin/junheng "$@"
