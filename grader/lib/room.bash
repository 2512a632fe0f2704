# shellcheck shell=bash
# room.bash - a virtual classroom on one Linux machine, for make classroom
# (grader/tools/classroom), lab 05's room test (grader/tests/
# 05-class-exchange.bats) and the kit's own self-test.  Linux, root,
# iproute2.
#
# A room is network namespaces named slroom-OWNER-ROLE, OWNER the PID of
# the process that made it (so a later run can tell a live room from one
# an interrupted run left):
#
#   slroom-OWNER-lan      the room's own LAN: a bridge, br0, and one end
#                         of every veth pair (t0 for the instructor, sI
#                         for seat I)
#   slroom-OWNER-teacher  the instructor's seat, ROOM_NET.1 on its eth0
#   slroom-OWNER-seatI    seat I (1 to 100), ROOM_NET.(10+I) on its eth0
#
# Nothing is made in the machine's own namespace: no interface, no route,
# no address; the room has no link out and no default route, so no packet
# of it can leave.  ROOM_NET is a /24 of 198.18.0.0/15 (RFC 2544, the
# benchmark range) that none of the machine's addresses or routes overlap.
#
# room_can || skip; room_sweep; room_make OWNER N; ... room_down

ROOM_PREFIX=slroom-

# room_can: true where a room can be made here; else says why on stdout.
room_can() {
	if [[ $(uname -s) != Linux ]]; then
		echo "network namespaces are Linux's (this is $(uname -s))"
		return 1
	fi
	if [[ $(id -u) != 0 ]]; then
		echo "making network namespaces needs root (sudo)"
		return 1
	fi
	if ! command -v ip >/dev/null; then
		echo "ip (iproute2) is not installed: apt-get install iproute2"
		return 1
	fi
	if ! ip netns list >/dev/null 2>&1; then
		echo "ip netns does not work here: $(ip netns list 2>&1 | head -1)"
		return 1
	fi
}

# room_names [OWNER]: the namespaces of every room (of OWNER's only).
room_names() {
	ip netns list 2>/dev/null | awk -v p="$ROOM_PREFIX${1:+$1-}" 'index($1, p) == 1 { print $1 }'
}

# room_remove NS...: end every process in the namespaces (TERM, KILL after
# 2 s; by the PIDs ip netns pids gives), then delete them.  Deleting the
# LAN deletes every veth pair with it.
room_remove() {
	local ns pid pids=() i
	for ns in "$@"; do
		mapfile -t -O "${#pids[@]}" pids < <(ip netns pids "$ns" 2>/dev/null)
	done
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for ((i = 0; i < 40; i++)); do
		for pid in "${pids[@]}"; do
			kill -0 "$pid" 2>/dev/null && break
			pid=""
		done
		[[ -z ${pid:-} ]] && break
		sleep 0.05
	done
	for pid in "${pids[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	# a process of the room started outside it (ip netns exec from here)
	# is the caller's to reap; wait briefly so the namespace is free
	for ((i = 0; i < 20; i++)); do
		[[ -z $(for ns in "$@"; do ip netns pids "$ns" 2>/dev/null; done) ]] && break
		sleep 0.05
	done
	for ns in "$@"; do
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}

# room_sweep: remove every room whose owner is gone (an interrupted run's);
# prints what it removed, if anything.  Live rooms (another run's) stay.
room_sweep() {
	local ns owner stale=() owners=() nprocs=0
	while IFS= read -r ns; do
		owner=${ns#"$ROOM_PREFIX"}
		owner=${owner%%-*}
		[[ $owner =~ ^[0-9]+$ ]] && kill -0 "$owner" 2>/dev/null && continue
		stale+=("$ns")
		[[ " ${owners[*]} " == *" $owner "* ]] || owners+=("$owner")
		nprocs=$((nprocs + $(ip netns pids "$ns" 2>/dev/null | wc -l)))
	done < <(room_names)
	((${#stale[@]})) || return 0
	room_remove "${stale[@]}"
	echo "removed what an interrupted room left (owner ${owners[*]}): ${#stale[@]} namespaces, $nprocs processes"
}

# room_pick_net: the first two 198.18.K (K 0 to 255) that none of this
# machine's own IPv4 addresses and routes overlap: ROOM_NET, the room's
# /24, and ROOM_ELSEWHERE; or fails.
room_pick_net() {
	ROOM_NET=$({
		ip -4 -o addr show 2>/dev/null | awk '{ print $4 }'
		ip -4 route show table all 2>/dev/null | awk '{ for (i = 1; i <= 2; i++) if ($i ~ /^[0-9]+\.[0-9.]+(\/[0-9]+)?$/) { print $i; next } }'
	} | awk -F'[./]' '
		function ip(a, b, c, d) { return ((a * 256 + b) * 256 + c) * 256 + d }
		NF >= 4 { len = (NF >= 5 ? $5 : 32); if (len > 0) { n++; net[n] = ip($1, $2, $3, $4); bits[n] = (len < 24 ? len : 24) } }
		END {
			for (k = 0; k < 256; k++) {
				c = ip(198, 18, k, 0); ok = 1
				for (i = 1; i <= n && ok; i++) {
					d = 2 ^ (32 - bits[i])
					if (int(net[i] / d) == int(c / d)) ok = 0
				}
				if (ok && ++found <= 2) print "198.18." k
			}
			exit found < 2
		}')
	# the second is a network of no machine here, that the room has no
	# route to (ENETUNREACH): ROOM_ELSEWHERE
	ROOM_ELSEWHERE=${ROOM_NET#*$'\n'}
	ROOM_NET=${ROOM_NET%%$'\n'*}
	[[ -n $ROOM_NET && -n $ROOM_ELSEWHERE && $ROOM_NET != "$ROOM_ELSEWHERE" ]]
}

# room_ns I: the namespace of seat I (0: the instructor's).
room_ns() {
	if (($1 == 0)); then echo "$ROOM_PREFIX$ROOM_OWNER-teacher"; else echo "$ROOM_PREFIX$ROOM_OWNER-seat$1"; fi
}

# room_addr I: seat I's address in the room (0: the instructor's).
room_addr() {
	if (($1 == 0)); then echo "$ROOM_NET.1"; else echo "$ROOM_NET.$((10 + $1))"; fi
}

# room_link I: the name of seat I's veth end in the LAN namespace.
room_link() {
	if (($1 == 0)); then echo t0; else echo "s$1"; fi
}

# room_make OWNER N: a room of OWNER (a PID: the room lives while it does)
# with the instructor's seat and N seats (1 to 100), all up; sets
# ROOM_OWNER, ROOM_N, ROOM_NET, ROOM_LAN.  On failure says why on stdout,
# removes what it made and returns 1.
room_make() {
	local i ns lan err
	ROOM_OWNER="$1" ROOM_N="$2"
	ROOM_LAN="$ROOM_PREFIX$ROOM_OWNER-lan"
	if ! room_pick_net; then
		echo "every 198.18.K.0/24 overlaps this machine's own addresses or routes"
		return 1
	fi
	room_down # an earlier room of the same owner
	lan=$ROOM_LAN
	if ! err=$({
		ip netns add "$lan" &&
			ip -n "$lan" link add br0 type bridge &&
			ip -n "$lan" link set br0 up &&
			ip -n "$lan" link set lo up || exit 1
		for ((i = 0; i <= ROOM_N; i++)); do
			ns=$(room_ns "$i")
			ip netns add "$ns" &&
				ip -n "$lan" link add "$(room_link "$i")" type veth peer name eth0 netns "$ns" &&
				ip -n "$lan" link set "$(room_link "$i")" master br0 up &&
				ip -n "$ns" link set lo up &&
				ip -n "$ns" addr add "$(room_addr "$i")/24" dev eth0 &&
				ip -n "$ns" link set eth0 up || exit 1
		done
	} 2>&1); then
		echo "the room could not be made: $err"
		room_down
		return 1
	fi
}

# room_down: remove this room (its processes, namespaces and links).
room_down() {
	[[ -n ${ROOM_OWNER:-} ]] || return 0
	local names=()
	mapfile -t names < <(room_names "$ROOM_OWNER")
	((${#names[@]})) && room_remove "${names[@]}"
	return 0
}

# room_exec I CMD...: run CMD in seat I's namespace (0: the instructor's).
room_exec() {
	local ns
	ns=$(room_ns "$1")
	shift
	ip netns exec "$ns" "$@"
}

# ---- the faults of a real room --------------------------------------------

# room_no_route I: the instructor's seat has no route to seat I (connect()
# gets EHOSTUNREACH at once, as from a router that says "no route").
room_no_route() {
	ip -n "$(room_ns 0)" route add unreachable "$(room_addr "$1")/32"
}

# room_firewall I PORT: seat I drops every packet to PORT (an nftables
# table of its own namespace): the SYN is never answered, as behind a
# laptop's firewall.  Fails, saying why, where nft is missing.
room_firewall() {
	if ! command -v nft >/dev/null; then
		echo "nft is not installed (apt-get install nftables)"
		return 1
	fi
	room_exec "$1" nft -f - <<-EOF 2>&1
		table inet slroom {
			chain input {
				type filter hook input priority 0; policy accept;
				tcp dport $2 drop
			}
		}
	EOF
}

# room_slow I RATE: seat I's link sends at most RATE (tc's units: 64kbit)
# toward the room (tc tbf on its eth0), a slow Wi-Fi.
room_slow() {
	room_exec "$1" tc qdisc add dev eth0 root tbf rate "$2" burst 1600 latency 2s 2>&1
}

# ---- what the server printed ------------------------------------------------

# room_urls FILE: the http://IP:PORT/ lines of a ready line's listing, one
# IPv4 "IP:PORT" a line, loopback (127.x) left out.
room_urls() {
	sed -n 's|^[[:space:]]*http://\([0-9][0-9.]*\):\([0-9]*\)/[[:space:]]*$|\1:\2|p' "$1" 2>/dev/null |
		awk -F: '$1 !~ /^127\./'
}

# room_in_net HOST: true when HOST is an address of the room (ROOM_NET.x).
room_in_net() {
	[[ $1 == "$ROOM_NET".* && ${1##*.} =~ ^[0-9]+$ ]] && ((${1##*.} >= 1 && ${1##*.} <= 254))
}

# ---- what is left -----------------------------------------------------------

# room_leftovers [OWNER]: the namespaces a room (OWNER's, or any) left, a
# line each; nothing when all is gone.
room_leftovers() {
	room_names "${1:-}" | sed 's/^/namespace /'
}

# ---- the class board ----------------------------------------------------------

# room_html: stdin escaped for HTML (a phrase is the classmate's, not ours).
room_html() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g' -e "s/'/\&#39;/g"; }

# room_board TABLE OUTDIR FILE: the class board, an HTML page of a card per
# row of exchange's TABLE (its phrase from OUTDIR/NAME.txt, its first 400
# bytes), to put on the projector; written to FILE.
room_board() {
	local table="$1" out="$2" name addr st ms class
	{
		cat <<-'EOF'
			<!DOCTYPE html>
			<html lang="en"><head><meta charset="utf-8"><title>Class exchange</title>
			<style>
			body { font-family: system-ui, sans-serif; background: #f4f4f0; margin: 2rem; }
			.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); gap: 1rem; }
			.card { background: #fff; border-radius: .6rem; padding: 1rem 1.2rem; box-shadow: 0 1px 3px #0002; }
			.card h2 { font-size: 1.3rem; margin: 0 0 .4rem; }
			.phrase { font-size: 1.25rem; line-height: 1.4; white-space: pre-wrap; }
			.meta { color: #555; font-size: .95rem; margin-top: .6rem; }
			.bad { border-left: .4rem solid #c0392b; } .ok { border-left: .4rem solid #27ae60; }
			</style></head><body>
		EOF
		printf '<h1>Class exchange: %s</h1>\n<div class="cards">\n' "$(tail -1 "$table" | room_html)"
		awk 'NF >= 5 && $1 !~ /^#/ && $3 ~ /^(ok|http-[0-9]+|refused|timeout|unreachable|bad-response|too-large)$/ { print $1, $2, $3, $NF }' \
			"$table" | while read -r name addr st ms; do
			class=bad
			[[ $st == ok ]] && class=ok
			printf '<div class="card %s"><h2>%s</h2>\n' "$class" "$(printf '%s' "$name" | room_html)"
			[[ -f $out/$name.txt ]] && printf '<div class="phrase">%s</div>\n' "$(head -c 400 "$out/$name.txt" | room_html)"
			printf '<div class="meta">%s &middot; %s &middot; %s ms</div></div>\n' "$(printf '%s' "$addr" | room_html)" "$st" "$ms"
		done
		echo '</div></body></html>'
	} >"$3"
}
