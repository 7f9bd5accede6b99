"""Bearer mode: Cognito sign-in and renewal (botocore's Stubber, a fake clock: no network), and the auth that sends them."""

import unittest

import botocore.session
import requests
from botocore import UNSIGNED
from botocore.config import Config
from botocore.stub import Stubber

from mlflow_gate_auth.bearer import CognitoTokenSource, GateBearerAuth, target_of
from mlflow_gate_auth.errors import MlflowGateCredentialsError

CLIENT_ID = "localclientid123"
PASSWORD = "S3cret-password-never-shown"


def stubbed_cognito():
    client = botocore.session.Session().create_client("cognito-idp", region_name="us-east-1", endpoint_url="http://127.0.0.1:9229", config=Config(signature_version=UNSIGNED))
    return client, Stubber(client)


def tokens(access, expires_in=3600, refresh=None):
    result = {"AccessToken": access, "IdToken": "id-" + access, "ExpiresIn": expires_in, "TokenType": "Bearer"}
    if refresh:
        result["RefreshToken"] = refresh
    return {"AuthenticationResult": result}


def password_auth(username="reader"):
    return {"ClientId": CLIENT_ID, "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": {"USERNAME": username, "PASSWORD": PASSWORD}}


def refresh_auth(token):
    return {"ClientId": CLIENT_ID, "AuthFlow": "REFRESH_TOKEN_AUTH", "AuthParameters": {"REFRESH_TOKEN": token}}


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


class TokenSourceTest(unittest.TestCase):
    def test_signs_in_once_then_renews_with_the_refresh_token_before_expiry(self):
        client, stub = stubbed_cognito()
        clock = Clock()
        stub.add_response("initiate_auth", tokens("access-1", refresh="refresh-1"), password_auth())
        stub.add_response("initiate_auth", tokens("access-2"), refresh_auth("refresh-1"))
        source = CognitoTokenSource(client, CLIENT_ID, "reader", PASSWORD, clock=clock)
        with stub:
            self.assertEqual(source.access_token(), "access-1")
            clock.now += 3299  # an hour's token is renewed 5 minutes before it expires
            self.assertEqual(source.access_token(), "access-1")
            clock.now += 2
            self.assertEqual(source.access_token(), "access-2")
        stub.assert_no_pending_responses()

    def test_a_short_token_is_renewed_a_quarter_of_its_lifetime_early(self):
        client, stub = stubbed_cognito()
        clock = Clock()
        stub.add_response("initiate_auth", tokens("access-1", expires_in=60), refresh_auth("refresh-0"))
        stub.add_response("initiate_auth", tokens("access-2", expires_in=60), refresh_auth("refresh-0"))
        source = CognitoTokenSource(client, CLIENT_ID, refresh_token="refresh-0", clock=clock)
        with stub:
            self.assertEqual(source.access_token(), "access-1")
            clock.now += 44
            self.assertEqual(source.access_token(), "access-1")
            clock.now += 2
            self.assertEqual(source.access_token(), "access-2")
        stub.assert_no_pending_responses()

    def test_an_invalidated_token_is_renewed_on_next_use(self):
        client, stub = stubbed_cognito()
        stub.add_response("initiate_auth", tokens("access-1", refresh="refresh-1"), password_auth())
        stub.add_response("initiate_auth", tokens("access-2"), refresh_auth("refresh-1"))
        source = CognitoTokenSource(client, CLIENT_ID, "reader", PASSWORD, clock=Clock())
        with stub:
            self.assertEqual(source.access_token(), "access-1")
            source.invalidate()
            self.assertEqual(source.access_token(), "access-2")
        stub.assert_no_pending_responses()

    def test_a_refused_refresh_token_signs_in_again_with_the_password(self):
        client, stub = stubbed_cognito()
        clock = Clock()
        stub.add_response("initiate_auth", tokens("access-1", refresh="refresh-1"), password_auth())
        stub.add_client_error("initiate_auth", service_error_code="NotAuthorizedException", service_message="Refresh Token has expired", http_status_code=400)
        stub.add_response("initiate_auth", tokens("access-3", refresh="refresh-3"), password_auth())
        source = CognitoTokenSource(client, CLIENT_ID, "reader", PASSWORD, clock=clock)
        with stub:
            source.access_token()
            clock.now += 4000
            self.assertEqual(source.access_token(), "access-3")
        stub.assert_no_pending_responses()

    def test_a_refused_refresh_token_alone_says_to_get_a_new_one(self):
        client, stub = stubbed_cognito()
        stub.add_client_error("initiate_auth", service_error_code="NotAuthorizedException", service_message="Invalid Refresh Token", http_status_code=400)
        with stub, self.assertRaisesRegex(MlflowGateCredentialsError, "Cognito refused the sign-in of the refresh token .*NotAuthorizedException: Invalid Refresh Token.*Get a new refresh token"):
            CognitoTokenSource(client, CLIENT_ID, refresh_token="refresh-0", clock=Clock()).access_token()

    def test_a_wrong_password_names_the_user_and_never_the_password(self):
        client, stub = stubbed_cognito()
        stub.add_client_error("initiate_auth", service_error_code="NotAuthorizedException", service_message="Incorrect username or password.", http_status_code=400)
        with stub, self.assertRaises(MlflowGateCredentialsError) as caught:
            CognitoTokenSource(client, CLIENT_ID, "reader", PASSWORD, clock=Clock()).access_token()
        self.assertIn("Cognito refused the sign-in of user reader (USER_PASSWORD_AUTH): NotAuthorizedException: Incorrect username or password.", caught.exception.message)
        self.assertNotIn(PASSWORD, caught.exception.message)

    def test_a_challenge_is_a_clear_error(self):
        client, stub = stubbed_cognito()
        stub.add_response("initiate_auth", {"ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": "s" * 20, "ChallengeParameters": {}})
        with stub, self.assertRaisesRegex(MlflowGateCredentialsError, "answered the sign-in of user reader with NEW_PASSWORD_REQUIRED"):
            CognitoTokenSource(client, CLIENT_ID, "reader", PASSWORD, clock=Clock()).access_token()


def prepare(method, url, **kwargs):
    return requests.Request(method, url, **kwargs).prepare()


class BearerAuthTest(unittest.TestCase):
    auth = GateBearerAuth(lambda: "access-1", [target_of("https://api.example.com/prod"), target_of("http://127.0.0.1:8080")])

    def test_sdk_routes_go_to_the_ui_routes_with_the_token(self):
        r = self.auth(prepare("GET", "https://api.example.com/prod/api/2.0/mlflow/experiments/search?max_results=5"))
        self.assertEqual(r.url, "https://api.example.com/prod/ajax-api/2.0/mlflow/experiments/search?max_results=5")
        self.assertEqual(r.headers["Authorization"], "Bearer access-1")
        r = self.auth(prepare("PUT", "http://127.0.0.1:8080/api/2.0/mlflow-artifacts/artifacts/1/a/b.txt", data=b"x"))
        self.assertEqual(r.url, "http://127.0.0.1:8080/ajax-api/2.0/mlflow-artifacts/artifacts/1/a/b.txt")

    def test_a_401_asks_for_a_new_token(self):
        refused = []
        auth = GateBearerAuth(lambda: "access-1", [target_of("http://127.0.0.1:8080")], on_refused=lambda: refused.append(1))
        request = auth(prepare("GET", "http://127.0.0.1:8080/api/2.0/mlflow/experiments/search"))
        for status in (200, 403, 401):
            response = requests.Response()
            response.status_code = status
            response._content = b'{"message":"Unauthorized"}'
            request.hooks["response"][0](response)
        self.assertEqual(refused, [1])

    def test_other_paths_keep_their_path_and_other_hosts_get_nothing(self):
        r = self.auth(prepare("POST", "http://127.0.0.1:8080/graphql", data=b"{}"))
        self.assertEqual((r.url, r.headers["Authorization"]), ("http://127.0.0.1:8080/graphql", "Bearer access-1"))
        for url in ["https://api.example.com/other/api/2.0/x", "https://bucket.s3.amazonaws.com/prod/api/x", "http://127.0.0.1:9999/api/2.0/x"]:
            with self.subTest(url=url):
                r = self.auth(prepare("GET", url))
                self.assertNotIn("Authorization", r.headers)
                self.assertEqual(r.url, url)


class BearerAuthInATeamTest(unittest.TestCase):
    # A team's tracking URI: the API's stage, then /ws/<team> (docs/teams.md#clients).
    auth = GateBearerAuth(lambda: "access-1", [target_of("https://api.example.com/prod/ws/team-a/"), target_of("http://127.0.0.1:8080/ws/api")])

    def test_the_teams_sdk_routes_go_to_its_ui_routes_with_the_token(self):
        r = self.auth(prepare("POST", "https://api.example.com/prod/ws/team-a/api/2.0/mlflow/runs/create", data=b"{}"))
        self.assertEqual((r.url, r.headers["Authorization"]), ("https://api.example.com/prod/ws/team-a/ajax-api/2.0/mlflow/runs/create", "Bearer access-1"))
        r = self.auth(prepare("GET", "https://api.example.com/prod/ws/team-a/api/2.0/mlflow-artifacts/presigned/1/abc/artifacts/w.bin"))
        self.assertEqual(r.url, "https://api.example.com/prod/ws/team-a/ajax-api/2.0/mlflow-artifacts/presigned/1/abc/artifacts/w.bin")

    def test_a_team_named_api_keeps_its_path(self):
        r = self.auth(prepare("GET", "http://127.0.0.1:8080/ws/api/api/2.0/mlflow/experiments/search"))
        self.assertEqual(r.url, "http://127.0.0.1:8080/ws/api/ajax-api/2.0/mlflow/experiments/search")

    def test_another_teams_path_and_the_apis_root_get_no_token(self):
        for url in ["https://api.example.com/prod/ws/team-b/api/2.0/mlflow/runs/get", "https://api.example.com/prod/api/2.0/mlflow/runs/get", "https://api.example.com/prod/ws/team-a-x/api/2.0/mlflow/runs/get"]:
            with self.subTest(url=url):
                r = self.auth(prepare("GET", url))
                self.assertNotIn("Authorization", r.headers)
                self.assertEqual(r.url, url)


if __name__ == "__main__":
    unittest.main()
