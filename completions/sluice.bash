# bash completion for sluice(1). Installed as
# $(DATADIR)/bash-completion/completions/sluice; needs no other completion helpers.

_sluice_themes()
{
    local d f names="default light mono"
    for d in "${XDG_CONFIG_HOME:-$HOME/.config}/sluice/themes" "@SLUICE_DATADIR@/themes"; do
        for f in "$d"/*.conf; do
            [ -e "$f" ] || continue
            f=${f##*/}
            names="$names ${f%.conf}"
        done
    done
    printf '%s\n' $names | sort -u
}

_sluice_ctl()
{
    local cur=$1 prev=$2 i cmd=""
    # The command is the first word after "ctl" that is neither an option nor its value.
    for ((i = 2; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        -d | --dir | --socket) ((i++)) ;;
        -*) ;;
        *) cmd=${COMP_WORDS[i]}; break ;;
        esac
    done
    if [ -z "$cmd" ]; then
        case $prev in
        -d | --dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --socket) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        esac
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "-d --dir --socket -h --help" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "rate concurrency pause resume requeue add remove schedule status metrics" -- "$cur"))
        fi
        return
    fi
    [ "$prev" = "$cmd" ] || return
    case $cmd in
    pause | resume) COMPREPLY=($(compgen -W "all" -- "$cur")) ;;
    requeue) COMPREPLY=($(compgen -W "failed" -- "$cur")) ;;
    rate) COMPREPLY=($(compgen -W "off" -- "$cur")) ;;
    esac
}

_sluice()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local opts="-i --input -d --dir --layout --overwrite --session --no-session --shard
        -j --concurrency --per-host --per-host-rps -r --rate --burst --schedule --cap-group --retries --retry-wait
        --connect-timeout --stall --min-rate --max-size --segments --min-segment -H --header --user-agent --proxy
        --ca-file --insecure --headless --tui --theme --log --no-bell --on-finish -c --config -h --help -V --version"
    local IFS=$' \t\n'

    COMPREPLY=()
    if [ "$COMP_CWORD" -ge 2 ] && [ "${COMP_WORDS[1]}" = ctl ]; then
        _sluice_ctl "$cur" "$prev"
        return
    fi
    if [ "$COMP_CWORD" -ge 2 ] && [ "${COMP_WORDS[1]}" = report ]; then
        case $prev in
        -d | --dir) COMPREPLY=($(compgen -d -- "$cur")) ;;
        --session) COMPREPLY=($(compgen -f -- "$cur")) ;;
        *) COMPREPLY=($(compgen -W "-d --dir --session --failed --all --json -h --help" -- "$cur")) ;;
        esac
        return
    fi
    case $prev in
    -i | --input | -c | --config | --session | --log | --ca-file)
        COMPREPLY=($(compgen -f -- "$cur")); return ;;
    -d | --dir)
        COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --layout)
        COMPREPLY=($(compgen -W "path flat host" -- "$cur")); return ;;
    --theme)
        if [[ $cur == */* || $cur == *.conf ]]; then
            COMPREPLY=($(compgen -f -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$(_sluice_themes)" -- "$cur"))
        fi
        return ;;
    -r | --rate)
        COMPREPLY=($(compgen -W "off" -- "$cur")); return ;;
    -j | --concurrency | --per-host | --per-host-rps | --shard | --cap-group | --burst | --schedule | --retries | --retry-wait | \
        --connect-timeout | --stall | --min-rate | --max-size | --segments | --min-segment | -H | --header | \
        --user-agent | --proxy | --on-finish)
        return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    elif [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "ctl attach report" -- "$cur"))
    fi
}
complete -o default -o bashdefault -F _sluice sluice
