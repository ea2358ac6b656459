"""mail.wire writes our usual message without Flask-Mail's MIME tree: it must send the very
bytes Flask-Mail would (flask_mail.Message(...).as_bytes()), with the Message-ID and Date
fixed and the random boundaries numbered in order of appearance."""
import email
import email.policy
import re

import flask_mail
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invites.mail import wire
from invites.mail.service import Message

DATE = 1_700_000_000.0
BOUNDARY = re.compile(rb"={15}\d{19}==")

LONG_LINE = "A line longer than any mail client wraps, " * 40
CASES = {
    "ascii": dict(subject="Olivia Owner invited you to join Bench", recipients=["b0-1@bulk.test"],
                  body="Hello,\n\nJoin us.\n", html="<p>Hello,</p>\n<p>Join us.</p>\n"),
    "non-ascii subject and bodies": dict(
        subject="Zoë Ångström invited you to join Ærø Træning ✓", recipients=["zoe@example.com"],
        body="Hej Zoë,\nvälkommen ✓\n", html="<p>Hej Zoë, välkommen ✓</p>"),
    "non-ascii display names": dict(
        subject="Hi", recipients=["Zoë Ångström <zoe@example.com>", ("Ærø Træning", "aero@example.com")],
        sender="Équipe Invites <invites@example.org>", body="x", html="<p>x</p>"),
    "idna domains": dict(subject="Hi", recipients=["zoe@exämple.org", "Zoë <z@bücher.example>"],
                         sender="Équipe Invites <invites@exämple.org>", body="x\n", html="y\n"),
    "long ascii subject that folds": dict(
        subject=" ".join(["Olivia Owner invited you to join Bench Training and Friends"] * 4),
        recipients=["a@example.com"], body="x", html="y"),
    "long word in subject": dict(subject="x" * 200, recipients=["a@example.com"], body="x", html="y"),
    "non-ascii subject that policy.SMTP leaves as it is": dict(
        subject="Ærø Træning ✓ and words", recipients=["a@example.com"], body="x", html="y"),
    "reply-to": dict(subject="Hi", recipients=["a@example.com"], reply_to="Ann Lee <ann@example.com>",
                     body="x", html="y"),
    "non-ascii reply-to": dict(subject="Hi", recipients=["a@example.com"], reply_to=("Zoë", "zoe@exämple.org"),
                               body="x", html="y"),
    "cc": dict(subject="Hi", recipients=["a@example.com"], cc=["c@example.com", "Zoë <z@example.com>"],
               body="x", html="y"),
    "quotes and commas in display names": dict(
        subject='Hi "there", you', recipients=['"Lee, Ann" <ann@example.com>', '"Q" O\'Brien <q@example.com>',
                                               ("Smith, John", "john@example.com")],
        sender='"Invites, the app" <invites@example.org>', reply_to=('Ann "the boss" Lee', "boss@example.com"),
        body="x", html="y"),
    "long lines in bodies": dict(subject="Hi", recipients=["a@example.com"],
                                 body=LONG_LINE + "\n" + "é" * 2000, html=f"<p>{LONG_LINE}</p>"),
    "line ends of every kind, no final newline": dict(
        subject="Hi", recipients=["a@example.com"], body="one\r\ntwo\rthree\nfour", html="a\r\n\r\nb\n\n"),
    "empty bodies": dict(subject="Hi", recipients=["a@example.com"], body="", html=""),
    "lines that look like mbox and MIME": dict(
        subject="Hi", recipients=["a@example.com"],
        body="From here on\n--===============1234567890123456789==\n.\n", html="From <b>me</b>\n--x--\n"),
    "no subject": dict(subject="", recipients=["a@example.com"], body="x", html="y"),
    "long address list": dict(subject="Hi", recipients=[f"person.number{n}@example.com" for n in range(12)],
                              body="x", html="y"),
    "plus and dots in addresses": dict(subject="Hi", recipients=["first.last+tag@mail.example.co.uk"],
                                       sender="bounce-1_2@mail.example.org", body="x", html="y"),
}


def pair(**fields):
    """Ours and Flask-Mail's message from the same fields, with one Message-ID and Date."""
    ours = Message(date=DATE, **fields)
    theirs = flask_mail.Message(date=DATE, **fields)
    theirs.msgId = ours.msgId
    return ours, theirs


def normalized(data):
    numbers = {}
    return BOUNDARY.sub(lambda m: b"BOUNDARY-%d" % numbers.setdefault(m.group(), len(numbers)), data)


def assert_same_bytes(ours, theirs):
    assert wire.wire_bytes(ours) is not None  # the fast writer, not the fallback
    assert normalized(ours.as_bytes()) == normalized(theirs.as_bytes())


def without_subject(data):
    return re.sub(rb"Subject: .*?\r\n(?! )", b"", normalized(data), count=1, flags=re.S)


def refolded_by_flask_mail(subject):
    """A non-ASCII subject whose encoded words policy.SMTP folds again (see mail/wire.py)."""
    return not subject.isascii() and wire._refolds("Subject", flask_mail.sanitize_subject(subject))


def assert_same_bytes_but_an_exact_subject(ours, theirs):
    """The same bytes, except the Subject lines of a subject Flask-Mail would fold again,
    which must arrive exactly as written."""
    data = ours.as_bytes()
    assert wire.wire_bytes(ours) is not None
    assert without_subject(data) == without_subject(theirs.as_bytes())
    assert email.message_from_bytes(data, policy=email.policy.default)["Subject"] == ours.subject
    subject_lines = re.search(rb"Subject: .*?\r\n(?! )", data, flags=re.S).group().split(b"\r\n")
    assert max(len(line) for line in subject_lines) <= 78


@pytest.mark.parametrize("fields", CASES.values(), ids=CASES.keys())
def test_the_usual_message_is_byte_for_byte_what_flask_mail_writes(app, fields):
    with app.test_request_context():
        assert_same_bytes(*pair(**fields))


names = st.sampled_from(["", "Ann Lee", "Zoë Ångström", "Lee, Ann", '"Q" O\'Brien', "日本語", "Ærø Træning ✓",
                         "x" * 70, "Müller-Lüdenscheidt, Hans-Jürgen"])
domains = st.sampled_from(["example.com", "exämple.org", "bücher.example", "mail.example.co.uk"])
locals_ = st.from_regex(r"[a-z0-9]{1,12}([._+-][a-z0-9]{1,8}){0,2}", fullmatch=True)
addresses = st.builds(lambda name, local, domain: f"{name} <{local}@{domain}>" if name else f"{local}@{domain}",
                      names, locals_, domains)
words = st.sampled_from(["Olivia", "invited", "you", "to", "join", "Zoë", "Ærø", "Træning", "✓", "日本語の",
                         "supercalifragilistic", "a", "x" * 40, '"quoted"', "comma,", "=?utf-8?q?x?="])
short_subjects = st.lists(words, max_size=6).map(" ".join)
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
bodies = st.one_of(text, st.lists(st.sampled_from(["Hello,", "", "é" * 90, LONG_LINE, "From me", "\r", "--"]),
                                  max_size=8).map("\n".join))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(subject=short_subjects, recipients=st.lists(addresses, min_size=1, max_size=3), sender=addresses,
       reply_to=st.none() | addresses, body=bodies, html=bodies)
def test_generated_messages_are_byte_for_byte_what_flask_mail_writes(app, subject, recipients, sender, reply_to,
                                                                    body, html):
    fields = dict(subject=subject, recipients=recipients, sender=sender, reply_to=reply_to, body=body, html=html)
    with app.test_request_context():
        if refolded_by_flask_mail(subject):
            assert_same_bytes_but_an_exact_subject(*pair(**fields))
        else:
            assert_same_bytes(*pair(**fields))


LONG_NON_ASCII = [
    # Flask-Mail's own writer turns these into "ÅngströmTræning" and "join  Ångström".
    "Ærø supercalifragilistic you Ångström Træning Zoë " + "x" * 30 + " 日本語のテキスト Ærø Ærø Olivia",
    "Ærø Owner invited join ✓ " + "x" * 30 + " a supercalifragilistic Owner a join Ångström Træning",
    " ".join(["Zoë Ångström invited you to join Ærø Træning ✓"] * 4),
    "Ærø Træning ✓ and then some plain words here",
]


@pytest.mark.parametrize("subject", LONG_NON_ASCII)
def test_a_long_non_ascii_subject_is_folded_knowing_its_name_and_arrives_exactly(app, subject):
    """The one deliberate difference (see mail/wire.py): Flask-Mail's encoded words,
    folded again by policy.SMTP, can lose or add spaces; only the Subject lines differ."""
    assert refolded_by_flask_mail(subject)
    with app.test_request_context():
        assert_same_bytes_but_an_exact_subject(*pair(
            subject=subject, recipients=["a@example.com"], body="x", html="y"))


FALLBACKS = {
    "text only": dict(subject="Hi", recipients=["a@example.com"], body="x"),
    "another alternative": dict(subject="Hi", recipients=["a@example.com"], body="x", html="y",
                                alts={"html": "y", "watch-html": "z"}),
    "extra headers": dict(subject="Hi", recipients=["a@example.com"], body="x", html="y",
                          extra_headers={"List-Unsubscribe": "<mailto:u@example.com>"}),
    "another charset": dict(subject="Hi", recipients=["a@example.com"], body="x", html="y", charset="iso-8859-1"),
}


@pytest.mark.parametrize("fields", FALLBACKS.values(), ids=FALLBACKS.keys())
def test_other_shapes_are_written_by_flask_mail(app, fields):
    with app.test_request_context():
        ours, theirs = pair(**fields)
        assert wire.wire_bytes(ours) is None
        assert normalized(ours.as_bytes()) == normalized(theirs.as_bytes())


def test_an_attachment_is_written_by_flask_mail(app):
    with app.test_request_context():
        ours, theirs = pair(subject="Hi", recipients=["a@example.com"], body="x", html="y")
        for message in (ours, theirs):
            message.attach("list.csv", "text/csv", b"email\na@example.com\n")
        assert wire.wire_bytes(ours) is None
        assert normalized(ours.as_bytes()) == normalized(theirs.as_bytes())


@pytest.mark.parametrize("address", [
    "a@example.com", "first.last+tag@mail.example.co.uk", "x_y-z@a-b.example", "Ann <a@example.com>",
    "a..b@example.com", ".a@example.com", "a@example", "zoe@exämple.org", ("Zoë", "z@example.com"),
    "Lee, Ann <a@example.com>", '"Q" <q@example.com>',
])
def test_addresses_are_sanitized_as_flask_mail_does(address):
    assert wire.sanitize_address(address) == flask_mail.sanitize_address(address)
