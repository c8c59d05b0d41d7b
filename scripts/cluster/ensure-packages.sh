#!/usr/bin/env bash
# The Debian packages every dev cluster needs: iptables (each cluster's guard), and for a real
# node containerd, runc, the CNI plugins, conntrack (kube-proxy) and buildah (its images).
# Installed with apt-get when missing; a second run returns at once.
set -euo pipefail
. "$(dirname "$0")/../image/lib.sh"
need_tools iptables iproute2 util-linux conntrack containerd runc containernetworking-plugins buildah
