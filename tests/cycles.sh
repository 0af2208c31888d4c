#!/usr/bin/env bash
# Link-level dependencies between subsystems, from the built objects (build/obj/*.o unless a
# folder is given): a subsystem is the part of an object's name before the first '_'
# (engine_cap.o belongs to engine). An edge A -> B means an object of A uses a symbol that an
# object of B defines. Prints the edges with -v; exits 1 and names the cycle when there is one
# (docs/design.md#subsystems). Needs only nm, awk and tsort.
set -euo pipefail
verbose=0
[ "${1:-}" = -v ] && { verbose=1; shift; }
dir=${1:-build/obj}
ls "$dir"/*.o > /dev/null 2>&1 || { echo "cycles.sh: no objects in $dir (run make first)" >&2; exit 2; }

edges=$(for o in "$dir"/*.o; do
    b=$(basename "$o" .o)
    nm --defined-only -g "$o" | awk -v s="${b%%_*}" -v f="$b" 'NF == 3 { print "D", $3, s, f }'
    nm -u "$o" | awk -v s="${b%%_*}" -v f="$b" '{ print "U", $NF, s, f }'
done | awk '
    $1 == "D" { def[$2] = $3; next }
    { use[NR] = $0 }
    END {
        for (i in use) {
            split(use[i], u, " ")
            if ((u[2] in def) && def[u[2]] != u[3])
                print u[3], def[u[2]], u[4] "->" u[2]
        }
    }' | sort -u)

if [ "$verbose" = 1 ]; then
    awk '{ n[$1 " -> " $2]++; s[$1 " -> " $2] = s[$1 " -> " $2] " " $3 }
         END { for (k in n) print k ":" s[k] }' <<< "$edges" | sort
fi
if ! out=$(awk '{ print $1, $2 }' <<< "$edges" | sort -u | tsort 2>&1 > /dev/null) || [ -n "$out" ]; then
    echo "cycle between subsystems:"
    echo "$out" | sed 's/^/  /'
    # The symbols behind each edge between members of the loop.
    members=$(echo "$out" | awk '!/loop:$/ { print $NF }' | sort -u | tr '\n' ' ')
    awk -v m=" $members" 'index(m, " " $1 " ") && index(m, " " $2 " ") { print "  " $1 " -> " $2 ": " $3 }' <<< "$edges"
    exit 1
fi
echo "no cycles between subsystems ($(awk '{ print $1, $2 }' <<< "$edges" | sort -u | wc -l) edges)"
