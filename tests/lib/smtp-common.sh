# smtp-common.sh -- helpers the private MTA instances share (sourced by
# postfix-instance.sh and sendmail-instance.sh)
# shellcheck shell=bash

# free_port: print a TCP port free on 127.0.0.1 now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# smtp_banner PORT: print the first reply line of 127.0.0.1:PORT (send QUIT);
# non-zero if nothing is listening or it does not answer 220 within 3 s.
smtp_banner() {
	python3 - "$1" <<'PYEOF'
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
    line = s.makefile("rb").readline().decode("ascii", "replace").rstrip("\r\n")
    try:
        s.sendall(b"QUIT\r\n")
    except OSError:
        pass
    s.close()
except OSError:
    sys.exit(1)
print(line)
sys.exit(0 if line.startswith("220 ") or line.startswith("220-") else 1)
PYEOF
}

# smtp_wait_banner PORT SECONDS: poll until PORT answers 220.
smtp_wait_banner() {
	local port=$1 secs=$2 i
	for ((i = 0; i < secs * 5; i++)); do
		smtp_banner "$port" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}
