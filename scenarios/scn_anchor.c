/* Placeholder so the scenario library has a source until scenarios land. */
int tcplab_scn_anchor_(void);
int tcplab_scn_anchor_(void) { return 0; }
