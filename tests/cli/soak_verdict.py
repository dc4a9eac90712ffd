#!/usr/bin/env python3
"""bench/soak.py's judgement without the soak: which failed churn connects a
tl0 drop explains, what "flat" means for RSS and fds, when the run passes, and
the two things it reads (tl0's drop columns, listen's cookie line). The long
run itself is bench/soak.sh; this checks the rules it applies."""
import importlib.util
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "soak", os.path.join(here, "..", "..", "bench", "soak.py"))
soak = importlib.util.module_from_spec(spec)
spec.loader.exec_module(soak)

DEV = b"""Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
   tl0: 88050838 1340794    0    7    0     0          0         0 76240762 1364413    0  252    0     0       0          0
"""


def rows(*triples):
    return [{"t": t, "rss": rss, "fds": fds} for t, rss, fds in triples]


def good_run(**change):
    res = {"errors": 0, "nconns": 1000, "held_failed": 0, "held_alive": 1000, "why": {},
           "cookies_bad": 0, "warmup": 300, "listen_rc": 0,
           "rows": rows((0, 133000, 5), (300, 136000, 5), (600, 136100, 5), (1800, 136200, 5))}
    res.update(change)
    return res


def failed(checks):
    return [text for ok, text in checks if ok is False]


class Classify(unittest.TestCase):
    def test_recv_timeout_with_a_drop_in_its_handshake_is_a_lost_cookie_ack(self):
        self.assertIsNotNone(soak.classify("recv timeout", 1, 0))

    def test_recv_timeout_without_a_drop_is_unexplained(self):
        self.assertIsNone(soak.classify("recv timeout", 0, 0))

    def test_recv_timeout_is_unexplained_when_the_stack_refused_a_cookie(self):
        self.assertIsNone(soak.classify("recv timeout", 3, 1))
        self.assertIsNone(soak.classify("recv timeout", 3, None))

    def test_connect_timeout_needs_a_drop(self):
        self.assertIsNotNone(soak.classify("connect timeout", 2, 0))
        self.assertIsNone(soak.classify("connect timeout", 0, 0))

    def test_refused_or_reset_is_never_a_drop(self):
        for kind in ("connect ECONNREFUSED", "connect ECONNRESET", "recv ECONNRESET"):
            self.assertIsNone(soak.classify(kind, 5, 0), kind)


class Flat(unittest.TestCase):
    def test_small_growth_after_the_warmup_is_flat(self):
        rss, fds = soak.flat_after_warmup(good_run()["rows"], 300)
        self.assertTrue(rss[0])
        self.assertTrue(fds[0])

    def test_growth_before_the_warmup_does_not_count(self):
        r = rows((0, 5000, 5), (30, 100000, 5), (300, 136000, 5), (600, 136000, 5))
        self.assertTrue(soak.flat_after_warmup(r, 300)[0][0])

    def test_rss_above_the_bound_after_the_warmup_is_not_flat(self):
        # the bound is max(2 MiB, 2 %): 2,720 kB at 136,000 kB
        r = rows((300, 136000, 5), (600, 137000, 5), (900, 138721, 5))
        self.assertFalse(soak.flat_after_warmup(r, 300)[0][0])
        r = rows((300, 136000, 5), (600, 137000, 5), (900, 138720, 5))
        self.assertTrue(soak.flat_after_warmup(r, 300)[0][0])

    def test_small_processes_get_two_mib(self):
        r = rows((30, 5000, 5), (60, 7048, 5))
        self.assertTrue(soak.flat_after_warmup(r, 30)[0][0])
        r = rows((30, 5000, 5), (60, 7049, 5))
        self.assertFalse(soak.flat_after_warmup(r, 30)[0][0])

    def test_one_more_fd_is_not_flat(self):
        r = rows((300, 136000, 5), (600, 136000, 6))
        self.assertFalse(soak.flat_after_warmup(r, 300)[1][0])

    def test_a_run_shorter_than_warmup_and_a_row_is_not_judged(self):
        rss, fds = soak.flat_after_warmup(rows((0, 5000, 5), (30, 9000, 5)), 30)
        self.assertIsNone(rss[0])
        self.assertIsNone(fds[0])


class Verdict(unittest.TestCase):
    def test_a_good_run_passes(self):
        self.assertEqual(failed(soak.verdict(good_run())), [])

    def test_explained_failures_pass_and_are_counted(self):
        checks = soak.verdict(good_run(why={("recv timeout", True): 18}))
        self.assertEqual(failed(checks), [])
        self.assertIn("18 explained by tl0 drops, 0 unexplained", " ".join(t for _, t in checks))

    def test_one_unexplained_failure_fails(self):
        why = {("recv timeout", True): 18, ("recv timeout", False): 1}
        f = failed(soak.verdict(good_run(why=why)))
        self.assertEqual(len(f), 1)
        self.assertIn("18 explained by tl0 drops, 1 unexplained", f[0])

    def test_a_refused_cookie_makes_every_recv_timeout_unexplained(self):
        f = failed(soak.verdict(good_run(why={("recv timeout", True): 2}, cookies_bad=1)))
        self.assertEqual(len(f), 1)
        self.assertIn("0 explained", f[0])

    def test_each_condition_fails_on_its_own(self):
        for change in ({"errors": 1}, {"held_alive": 999}, {"held_failed": 1},
                       {"listen_rc": 1},
                       {"rows": rows((300, 136000, 5), (1800, 150000, 5))},
                       {"rows": rows((300, 136000, 5), (1800, 136000, 9))}):
            self.assertEqual(len(failed(soak.verdict(good_run(**change)))), 1, change)

    def test_not_judged_flatness_does_not_fail(self):
        checks = soak.verdict(good_run(rows=rows((0, 5000, 5))))
        self.assertEqual(failed(checks), [])
        self.assertEqual(sum(ok is None for ok, _ in checks), 2)


class Reads(unittest.TestCase):
    def test_tl0_drop_columns(self):
        self.assertEqual(soak.tl0_drops_from(DEV), (252, 7))
        self.assertEqual(soak.tl0_drops_from(DEV.replace(b"tl0:", b"tl1:")), (0, 0))

    def test_cookies_bad_from_the_exit_summary(self):
        s = "  SYN cookies (auto): sent 522539, valid 492628, bad 3\n"
        self.assertEqual(soak.cookies_bad_from(s), 3)
        self.assertIsNone(soak.cookies_bad_from("tcplab listen: stopped\n"))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=1)
