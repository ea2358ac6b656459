"""Login is limited per account as well as per client (security review, "Hardening gaps":
"Nothing is counted per account, so a distributed guess on one account is unthrottled").
Every attempt below comes from another client address, so only the per-account limit
(10 an hour) can stop them; unknown addresses are limited the same way, so the answers
never tell whether an account exists."""
from tests.conftest import PASSWORD
from tests.test_security import limited  # noqa: F401  (the fixture: an app with limits on)

PER_ACCOUNT = 10


def attempt(client, n, email, password="a wrong guess"):
    """A login attempt from the client address 10.0.<n // 250>.<n % 250>."""
    address = f"10.0.{n // 250}.{n % 250 + 1}"
    return client.post_form("/login", {"email": email, "password": password},
                            environ_base={"REMOTE_ADDR": address})


def test_guesses_on_one_account_from_many_clients_are_throttled(limited, make_user):  # noqa: F811
    person = make_user(email="target@example.com")
    client = limited.test_client()
    codes = [attempt(client, n, person.email).status_code for n in range(PER_ACCOUNT)]
    assert codes == [200] * PER_ACCOUNT
    # The next guess, even the right password and from yet another client, is refused.
    response = attempt(client, PER_ACCOUNT, person.email, PASSWORD)
    assert response.status_code == 429
    body = response.get_data(as_text=True)
    assert "Too many requests" in body and "Traceback" not in body


def test_every_spelling_of_the_address_counts_against_the_same_account(limited, make_user):  # noqa: F811
    make_user(email="target@example.com")
    client = limited.test_client()
    spellings = ["target@example.com", "TARGET@example.com", " Target@Example.COM ",
                 "target@EXAMPLE.com"]
    codes = [attempt(client, n, spellings[n % len(spellings)]).status_code
             for n in range(PER_ACCOUNT + 1)]
    assert codes == [200] * PER_ACCOUNT + [429]


def test_an_unknown_address_gets_exactly_the_same_answers(limited, make_user):  # noqa: F811
    person = make_user(email="target@example.com")
    client = limited.test_client()
    known = [attempt(client, n, person.email).status_code for n in range(PER_ACCOUNT + 1)]
    unknown = [attempt(client, 100 + n, "nobody@example.com").status_code
               for n in range(PER_ACCOUNT + 1)]
    assert known == unknown == [200] * PER_ACCOUNT + [429]


def test_a_throttled_account_leaves_the_others_alone(limited, make_user):  # noqa: F811
    target, bystander = make_user(email="target@example.com"), make_user(email="other@example.com")
    client = limited.test_client()
    codes = [attempt(client, n, target.email).status_code for n in range(PER_ACCOUNT + 1)]
    assert codes[-1] == 429
    assert attempt(client, 200, bystander.email, PASSWORD).status_code == 302
