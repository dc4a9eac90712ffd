/* Anchor so the support library is never empty; helpers live in support/. */
int tcplab_testsupport_anchor_(void);
int tcplab_testsupport_anchor_(void) { return 0; }
