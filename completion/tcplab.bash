# bash completion for tcplab(1). The options come from `tcplab COMMAND --help`
# (the program's own table), so this file never needs to follow a new option.
_tcplab()
{
    local cur prev cmd words cword
    if declare -F _init_completion >/dev/null 2>&1; then
        _init_completion -s || return
    else
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi
    local tcplab=${words[0]}
    if [ "$cword" -eq 1 ]; then
        COMPREPLY=($(compgen -W "lessons play replay listen connect quiz export demo help --help --version" -- "$cur"))
        return
    fi
    cmd=${words[1]}
    case $prev in
    --lang) COMPREPLY=($(compgen -W "en zh" -- "$cur")); return ;;
    --pcap | --trace | --junit | --answers)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
        return ;;
    --tun)
        [ "$cmd" = play ] || [ "$cmd" = replay ] || {
            COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null) tl0" -- "$cur")); return; } ;;
    --dev) COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur")); return ;;
    --run) COMPREPLY=($(compgen -c -- "$cur")); return ;;
    --cc) COMPREPLY=($(compgen -W "newreno cubic off" -- "$cur")); return ;;
    --pkt-profile) COMPREPLY=($(compgen -W "linux freebsd teaching" -- "$cur")); return ;;
    --kernel-addr | --addr | --gateway | --mtu | --msl | --syn-retries | --seed | --speed | \
    --dump-screen | --size | --set) return ;;
    esac
    if [[ $cur == -* ]]; then
        local opts
        opts=$("$tcplab" "$cmd" --help 2>/dev/null | grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi
    case $cmd in
    play | replay | quiz | export)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -W "$("$tcplab" lessons --names 2>/dev/null)" -- "$cur")
                   $(compgen -f -X '!*.tcps' -- "$cur") $(compgen -d -- "$cur"))
        case $cmd in # packetdrill scripts; play also animates captures
        play) COMPREPLY+=($(compgen -f -X '!*.pkt' -- "$cur") $(compgen -f -X '!*.pcap' -- "$cur")
                          $(compgen -f -X '!*.pcapng' -- "$cur")) ;;
        replay) COMPREPLY+=($(compgen -f -X '!*.pkt' -- "$cur")) ;;
        esac
        ;;
    help) COMPREPLY=($(compgen -W "lessons play replay listen connect quiz export demo" -- "$cur")) ;;
    listen) COMPREPLY=($(compgen -W "7:echo 9:discard 13:daytime 19:chargen 80:http" -- "$cur")) ;;
    esac
}
complete -F _tcplab tcplab
