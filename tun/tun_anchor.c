/* Placeholder so the tun library has a source until vlink lands. */
int tcplab_tun_anchor_(void);
int tcplab_tun_anchor_(void) { return 0; }
