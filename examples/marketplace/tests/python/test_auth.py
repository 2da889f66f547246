"""Tests for WBS-002: TD-0001, TD-0002, TD-0004, NT-0001, NT-0004."""
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.auth import passwords  # noqa: E402
from services.auth.sessions import LoginThrottle, SessionStore  # noqa: E402

TEST_SIGNER = b"unit-test-signer"


class PassphraseTests(unittest.TestCase):
    # TD-0001
    def test_hash_round_trip(self):
        stored = passwords.hash_passphrase("violet studio lamp", salt=b"0123456789abcdef")
        self.assertTrue(stored.startswith("scrypt$"))
        self.assertTrue(passwords.verify_passphrase("violet studio lamp", stored))
        self.assertFalse(passwords.verify_passphrase("violet studio lamb", stored))

    def test_salt_makes_hashes_differ(self):
        a = passwords.hash_passphrase("violet studio lamp", salt=b"a" * 16)
        b = passwords.hash_passphrase("violet studio lamp", salt=b"b" * 16)
        self.assertNotEqual(a, b)

    def test_old_parameters_need_rehash(self):
        self.assertTrue(passwords.needs_rehash("scrypt$1024$8$1$AAAA$AAAA"))
        self.assertTrue(passwords.needs_rehash("md5$whatever"))

    # NT-0001
    def test_short_phrase_rejected(self):
        with self.assertRaises(passwords.WeakPassphrase):
            passwords.check_strength("tiny", "mara@example.com")

    def test_phrase_with_email_rejected(self):
        with self.assertRaises(passwords.WeakPassphrase):
            passwords.check_strength("mara-records-2026", "mara@example.com")
        passwords.check_strength("late night mixing", "mara@example.com")


class RecoveryTests(unittest.TestCase):
    # NT-0004
    def test_token_redeems_within_ttl(self):
        token = passwords.issue_recovery_token("usr_17", now=1_000_000, key=TEST_SIGNER)
        self.assertEqual(passwords.redeem_recovery_token(token, now=1_000_600, key=TEST_SIGNER), "usr_17")

    def test_token_expires_and_resists_tampering(self):
        token = passwords.issue_recovery_token("usr_17", now=1_000_000, key=TEST_SIGNER)
        self.assertIsNone(passwords.redeem_recovery_token(token, now=1_003_000, key=TEST_SIGNER))
        forged = token.replace("usr_17", "usr_18")
        self.assertIsNone(passwords.redeem_recovery_token(forged, now=1_000_010, key=TEST_SIGNER))


class SessionTests(unittest.TestCase):
    # TD-0002
    def test_rotation_invalidates_old_token(self):
        store = SessionStore()
        old = store.issue("usr_1", now=0)
        new = store.rotate(old, now=60)
        self.assertIsNotNone(new)
        self.assertIsNone(store.lookup(old, now=61))
        self.assertEqual(store.lookup(new, now=62).user_id, "usr_1")

    def test_idle_timeout_and_trusted_devices(self):
        store = SessionStore()
        short = store.issue("usr_1", now=0)
        trusted = store.issue("usr_1", now=0, trusted_device=True)
        self.assertIsNone(store.lookup(short, now=13 * 3600))
        self.assertIsNotNone(store.lookup(trusted, now=13 * 3600))
        self.assertEqual(store.revoke_all("usr_1"), 1)


class ThrottleTests(unittest.TestCase):
    # TD-0004
    def test_five_failures_lock_the_account(self):
        throttle = LoginThrottle()
        results = [throttle.record_failure("mara@example.com", now=t) for t in range(5)]
        self.assertEqual(results, [False, False, False, False, True])
        self.assertTrue(throttle.is_locked("mara@example.com", now=10))
        self.assertFalse(throttle.is_locked("mara@example.com", now=10 + 15 * 60))


if __name__ == "__main__":
    unittest.main()
