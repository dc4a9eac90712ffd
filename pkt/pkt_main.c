/*
 * pkt_main.c — `tcplab_pkt_replay FILE.pkt...`: the .pkt runner on its own,
 * the same command as `tcplab replay FILE.pkt` (pkt_cli.c).
 */
#include "pkt.h"

int main(int argc, char **argv)
{
    return pkt_cmd_replay(argc, argv);
}
