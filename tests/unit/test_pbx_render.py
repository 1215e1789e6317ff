"""Rules the rendered Asterisk configuration keeps: no toll fraud, local-only bindings, generated secrets."""

from __future__ import annotations

import dataclasses
import re
import secrets as pysecrets
from pathlib import Path

import pytest

from padang112 import config
from padang112.pbx import confparse, prompts, render
from padang112.pbx.layout import layout
from padang112.telephony import heartbeat

# everything that could place a call, run a program or hand the channel to something we do not control
ROUTE_OUT = {
    "Dial",
    "Originate",
    "Page",
    "FollowMe",
    "ChannelRedirect",
    "System",
    "TrySystem",
    "AGI",
    "EAGI",
    "DISA",
    "Transfer",
    "BlindTransfer",
    "Park",
    "ParkAndAnnounce",
    "Macro",
    "Exec",
    "ExecIf",
    "Bridge",
    "BridgeAdd",
    "ConfBridge",
    "Dictate",
    "ExternalIVR",
    "AudioSocket",
    "Directory",
}


def _secrets(settings: config.Settings) -> config.Secrets:
    return config.Secrets(
        ami_password=pysecrets.token_urlsafe(18),
        ari_password=pysecrets.token_urlsafe(18),
        session_key=pysecrets.token_urlsafe(32),
        seat_passwords={s: pysecrets.token_urlsafe(12) for s in settings.seats},
        duty_passwords={d: pysecrets.token_urlsafe(12) for d in settings.duty_phones.values()},
        metrics_password=pysecrets.token_urlsafe(18),
    )


@pytest.fixture(scope="module")
def main_settings() -> config.Settings:
    return config.load(environ={})


@pytest.fixture(scope="module")
def main_secrets(main_settings: config.Settings) -> config.Secrets:
    return _secrets(main_settings)


@pytest.fixture(scope="module")
def files(main_settings: config.Settings, main_secrets: config.Secrets) -> dict[str, str]:
    return render.render_all(main_settings, main_secrets)


@pytest.fixture(scope="module")
def plan(files: dict[str, str]) -> dict[str, list[confparse.Step]]:
    return confparse.dialplan(files["extensions.conf"])


def _reachable(plan: dict[str, list[confparse.Step]], start: str) -> set[str]:
    """Contexts a channel entering ``start`` can reach (Goto, GotoIf, Gosub, hangup handlers, Queue gosub)."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        ctx = todo.pop()
        if ctx in seen:
            continue
        seen.add(ctx)
        for step in plan[ctx]:
            for target in re.findall(r"(?:^|[?:,=])([a-z][a-z0-9_-]+),s,1", step.args):
                todo.append(target)
            if step.app == "Queue":
                todo.append(step.args.split(",")[6])
    return seen


def test_every_emergency_number_from_a_carrier_goes_to_stasis(
    main_settings: config.Settings, plan: dict[str, list[confparse.Step]]
) -> None:
    steps = plan["p112-emergency-numbers"]
    for number in main_settings.calls.emergency_numbers:
        mine = [s for s in steps if s.exten == number]
        assert [(s.app, s.args) for s in mine] == [("Set", "__P112_DIALED=${EXTEN}"), ("Goto", "emergency,s,1")]
    assert {s.exten for s in steps} == set(main_settings.calls.emergency_numbers)
    stasis = [s for s in plan["emergency"] if s.app == "Stasis"]
    assert [s.args for s in stasis] == [f"{main_settings.asterisk.app},inbound,${{P112_CARRIER}},${{P112_DIALED}}"]
    assert plan["emergency"][0].args == "__P112_CARRIER=${CHANNEL(endpoint)}"


def test_a_carrier_number_is_normalised_then_only_an_emergency_number_goes_on(
    plan: dict[str, list[confparse.Step]],
) -> None:
    """``112;phone-context=+62`` loses its parameters, ``+62112``/``62112`` their country code; what is then not
    all digits, or not an emergency number, is rejected before answer."""
    normalise = [s for s in plan["from-carrier"] if s.exten == "_[0-9+]."]
    assert normalise[0].args == "P112_NUMBER=${CUT(EXTEN,;,1)}"
    assert any("FILTER(0123456789,${P112_NUMBER})" in s.args and s.args.endswith("?reject") for s in normalise)
    onward = [s.args for s in normalise if s.app == "GotoIf" and "DIALPLAN_EXISTS" in s.args]
    assert onward == [
        "${DIALPLAN_EXISTS(p112-emergency-numbers,${P112_NUMBER},1)}?p112-emergency-numbers,${P112_NUMBER},1"
    ]
    assert (normalise[-1].app, normalise[-1].args, normalise[-1].label) == ("Hangup", "21", "reject")
    others = [s for s in plan["from-carrier"] if s.exten != "_[0-9+]."]
    assert {s.exten for s in others} >= {"_X", "i"}
    assert any(s.exten.startswith("_[") and "a-z" in s.exten for s in others)
    assert all((s.app, s.args, s.priority) == ("Hangup", "21", "1") for s in others)


def test_nothing_a_carrier_can_reach_routes_a_call_out(plan: dict[str, list[confparse.Step]]) -> None:
    reachable = _reachable(plan, "from-carrier") | _reachable(plan, "p112-emergency-numbers")
    assert reachable >= {
        "from-carrier",
        "emergency",
        "emergency-fallback",
        "p112-fallback-enter",
        "p112-fallback-hangup",
        "p112-fallback-answered",
    }
    # the one exception: each caller's watchdog, a Local channel into [p112-watchdog] that can only move that
    # same caller (its channel name, found by name: a look-up by unique id compares every channel) into the fallback
    originate = [s.args for s in plan["emergency"] if s.app == "Originate"]
    assert originate == ["Local/${CUT(P112_SELF,/,2)}@p112-watchdog/n,app,Wait,86400,,,a"]
    assert [s.args for s in plan["emergency"] if s.args.startswith("P112_SELF=")] == ["P112_SELF=${CHANNEL(name)}"]
    assert [s.args for s in plan["p112-watchdog"] if s.args.startswith("P112_CALLER=")] == [
        "P112_CALLER=PJSIP/${EXTEN}"
    ]
    redirects = [s.args for s in plan["p112-watchdog"] if s.app == "ChannelRedirect"]
    assert redirects == ["${P112_CALLER},emergency-fallback,${P112_ENTRY},1"]
    assert {s.app for s in plan["p112-watchdog"]} & ROUTE_OUT == {"ChannelRedirect"}
    for ctx in reachable:
        apps = {s.app for s in plan[ctx]} - ({"Originate"} if ctx == "emergency" else set())
        assert not apps & ROUTE_OUT, f"[{ctx}] uses {apps & ROUTE_OUT}"
    assert "Dial(" not in "".join(f"{s.app}({s.args})" for s in plan["from-carrier"])
    # the controller only ever returns a channel to the dialplan explicitly: after Stasis it is hung up; a Stasis()
    # that failed (no controller holds the app) is tried again, else the fallback queue: nowhere else
    emergency = plan["emergency"]
    stasis = [s.app for s in emergency].index("Stasis")
    after = emergency[stasis + 1 :]
    assert [s.app for s in after] == ["GotoIf", "Set", "GotoIf", "Wait", "Goto", "Set", "Goto", "Hangup"]
    assert after[0].args == '$["${STASISSTATUS}" = "SUCCESS"]?done' and after[-1].label == "done"
    assert emergency[stasis].label == "app" and after[4].args == "app"
    assert after[6].args == "emergency-fallback,s,1" and after[6].label == "fallback"


def test_the_caller_hears_music_at_once_and_goes_to_the_fallback_when_the_heartbeat_is_stale(
    plan: dict[str, list[confparse.Step]],
) -> None:
    apps = [s.app for s in plan["emergency"]]
    assert apps.index("Answer") < apps.index("StartMusicOnHold") < apps.index("Stasis")
    stale = [s.args for s in plan["emergency"] if s.app == "GotoIf" and "P112_ALIVE" in s.args]
    stale_s = heartbeat.STALE_AFTER_S
    assert stale == [f"$[${{EPOCH}} - 0${{GLOBAL(P112_ALIVE)}} > {stale_s}]?fallback"]
    assert apps.index("GotoIf") < apps.index("Originate") < apps.index("Stasis")
    stale_watch = [s.args for s in plan["p112-watchdog"] if "GLOBAL(P112_ALIVE)" in s.args]
    assert stale_watch[1:] == [f"$[${{EPOCH}} - 0${{GLOBAL(P112_ALIVE)}} > {stale_s}]?away"]
    # the usual second is one step: the same conditions as the checks after it, all calm at once
    steps = [s.args for s in plan["p112-watchdog"]]
    assert (
        steps[steps.index("1") + 1]
        == stale_watch[0]
        == (
            '$["${IMPORT(${P112_CALLER},P112_IN_APP)}" = "1" & "${IMPORT(${P112_CALLER},BRIDGEPEER)}" = "" & '
            f"${{EPOCH}} - 0${{GLOBAL(P112_ALIVE)}} <= {stale_s} & "
            "0${P112_ARRIVED_DS:0:-1} >= 0${GLOBAL(P112_ALIVE_SINCE)}]?loop"
        )
    )


def test_a_caller_of_the_outage_joins_the_fallback_queue_while_anyone_waits_there(
    plan: dict[str, list[confparse.Step]],
) -> None:
    """Arrival order across the two lines: a controller back from the dead does not serve a caller of the outage
    while others (earlier or later) wait in the fallback queue: all of them queue there by arrival; callers who
    arrive after the recovery (the controller's P112_ALIVE_SINCE) stay with the controller."""
    follow = "$[0${QUEUE_WAITING_COUNT(padang112-fallback)} > 0]"
    steps = plan["p112-watchdog"]
    args = [s.args for s in steps]
    watch = args.index(follow + "?away:loop")
    assert args[watch - 1] == "$[0${P112_ARRIVED_DS:0:-1} >= 0${GLOBAL(P112_ALIVE_SINCE)}]?loop"
    assert "P112_ARRIVED_DS=${IMPORT(${P112_CALLER},P112_ARRIVED)}" in args
    assert not [s for s in plan["emergency"] if s.args.startswith(follow)]  # new arrivals are not held back


def test_seats_can_dial_nothing(plan: dict[str, list[confparse.Step]]) -> None:
    assert {s.app for s in plan["seats"]} == {"Hangup"}


def test_fallback_notes_the_call_records_it_and_never_gives_up(
    main_settings: config.Settings, plan: dict[str, list[confparse.Step]]
) -> None:
    enter = plan["p112-fallback-enter"]
    apps = [s.app for s in enter]
    assert apps.index("Set") < apps.index("Answer") < apps.index("MixMonitor")
    assert enter[0].args.startswith("DB(p112fb/${UNIQUEID})=${EPOCH}|${P112_CARRIER}|${BASE64_ENCODE(")
    assert any(s.args == "CHANNEL(hangup_handler_push)=p112-fallback-hangup,s,1" for s in enter)
    assert any(s.args.startswith("QUEUE_PRIO=$[") and "P112_ARRIVED" in s.args for s in enter)
    mix = enter[apps.index("MixMonitor")].args
    assert mix == f"{layout(main_settings).recording}/fallback-${{UNIQUEID}}.wav"
    steps = plan["emergency-fallback"]
    entries = {s.exten for s in steps if s.priority == "1"}
    assert entries == {"s", "waited", "seat-gone", "queue"}
    for entry in ("s", "waited", "seat-gone"):
        mine = [s for s in steps if s.exten == entry]
        assert mine[0].app == "Gosub" and mine[0].args.startswith("p112-fallback-enter,s,1(")
        assert mine[-1].args == "emergency-fallback,queue,1"
    assert [s.app for s in steps if s.exten == "s"] == ["Gosub", "Playback", "Goto"]  # greeted only once
    queue_steps = [s for s in steps if s.exten == "queue"]
    queue = next(s for s in queue_steps if s.app == "Queue")
    assert queue.args.split(",")[0] == main_settings.calls.fallback_queue
    assert [s.args for s in queue_steps if s.app == "Goto"] == ["queue,1"]  # loops, never gives up
    hangup_writes = [s.args for s in plan["p112-fallback-hangup"] if s.args.startswith("DB(p112fb_end/")]
    assert hangup_writes == [
        "DB(p112fb_end/${UNIQUEID})=${EPOCH}|${QUEUESTATUS}|${CUT(P112_ANS,|,2)}|${CUT(P112_ANS,|,1)}"
    ]
    assert plan["p112-fallback-answered"][0].args == "DB(p112fb_ans/${P112_UID})=${EPOCH}|${CHANNEL(endpoint)}"


def test_fallback_queue_has_no_static_members_and_pauses_seats_that_do_not_answer(
    main_settings: config.Settings, files: dict[str, str]
) -> None:
    sections = confparse.parse(files["queues.conf"])
    assert confparse.one(sections, "general").get("persistentmembers") == "yes"
    q = confparse.one(sections, main_settings.calls.fallback_queue)
    assert q.all("member") == []
    expected = {
        "strategy": "leastrecent",
        "ringinuse": "no",
        "autopause": "all",
        "joinempty": "yes",
        "leavewhenempty": "no",
        "retry": "1",
        "musicclass": render.FALLBACK_MUSIC_CLASS,
        "announce-position": "no",
        "timeout": str(int(main_settings.calls.ring_timeout_s)),
    }
    assert {k: q.get(k) for k in expected} == expected
    # app_queue's periodic announcement keeps a free seat from ringing while it plays: the music says it instead
    assert q.get("periodic-announce") is None
    classes = confparse.parse(files["musiconhold.conf"])
    music = confparse.one(classes, render.FALLBACK_MUSIC_CLASS)
    assert music.get("announcement") == "padang112/please-hold"
    assert music.get("directory") == str(prompts.HOLD_MUSIC_DIR / prompts.PIECES) and music.get("mode") == "files"
    # the controller's callers hear the same songs without their silences
    assert confparse.one(classes, "default").get("directory") == str(prompts.HOLD_MUSIC_DIR / prompts.SONGS)


def test_the_controllers_ari_connections_fit_in_the_switchs_http_sessions(files: dict[str, str]) -> None:
    """Beyond ``sessionlimit`` Asterisk refuses connections: the controller's two pools (calls' requests; WebSocket,
    echo and heartbeat) must fit with room to spare (Prometheus's scrapes, tools), or a busy switch starves the
    heartbeat and the WebSocket's reconnection (bench/waiting.py with 1,000 callers)."""
    from padang112.telephony import ari

    limit = int(confparse.one(confparse.parse(files["http.conf"]), "general").get("sessionlimit") or 0)
    assert limit - 16 >= ari.REQUEST_CONNECTIONS + ari.LIVENESS_CONNECTIONS


def test_everything_listens_on_the_bind_address_only(files: dict[str, str]) -> None:
    pjsip = confparse.parse(files["pjsip.conf"])
    transports = confparse.by_type(pjsip, "transport")
    assert [t.get("bind") for t in transports.values()] == ["127.0.0.1:5060"]
    http = confparse.one(confparse.parse(files["http.conf"]), "general")
    assert (http.get("enabled"), http.get("bindaddr"), http.get("bindport")) == ("yes", "127.0.0.1", "8088")
    manager = confparse.parse(files["manager.conf"])
    general = confparse.one(manager, "general")
    assert (general.get("bindaddr"), general.get("port")) == ("127.0.0.1", "5038")
    user = confparse.one(manager, "padang112")
    assert user.all("permit") == ["127.0.0.1/255.255.255.255"] and user.get("deny") == "0.0.0.0/0.0.0.0"
    for endpoint in confparse.by_type(pjsip, "endpoint").values():
        assert endpoint.get("media_address") == "127.0.0.1"


def test_no_secret_is_written_in_a_template() -> None:
    secret_line = re.compile(r"^\s*(password|secret|auth_password)\s*=\s*(.*)$", re.M)
    for directory in render.TEMPLATE_DIRS:
        for template in directory.glob("*.j2"):
            for _key, value in secret_line.findall(template.read_text()):
                assert re.fullmatch(r"\{\{ *(secrets\.\w+|s\.password|password) *\}\}", value.strip()), template


def test_rendered_files_carry_the_generated_secrets(files: dict[str, str], main_secrets: config.Secrets) -> None:
    ari = confparse.one(confparse.parse(files["ari.conf"]), "padang112")
    assert (ari.get("type"), ari.get("password_format"), ari.get("password")) == (
        "user",
        "plain",
        main_secrets.ari_password,
    )
    ami = confparse.one(confparse.parse(files["manager.conf"]), "padang112")
    assert ami.get("secret") == main_secrets.ami_password


def test_asterisk_serves_its_own_metrics_on_loopback_behind_the_generated_password(
    files: dict[str, str], main_secrets: config.Secrets
) -> None:
    metrics = confparse.one(confparse.parse(files["prometheus.conf"]), "general")
    assert (metrics.get("enabled"), metrics.get("core_metrics_enabled"), metrics.get("uri")) == (
        "yes",
        "yes",
        "metrics",
    )
    assert metrics.get("auth_username") == render.METRICS_USER
    assert metrics.get("auth_password") == main_secrets.metrics_password and len(main_secrets.metrics_password) >= 24
    assert "res_prometheus.so" not in confparse.one(confparse.parse(files["modules.conf"]), "modules").all("noload")
    http = confparse.one(confparse.parse(files["http.conf"]), "general")
    assert http.get("bindaddr") == "127.0.0.1"  # the same server as ARI: loopback only


def test_asterisk_metrics_are_never_rendered_without_a_password(
    main_settings: config.Settings, main_secrets: config.Secrets
) -> None:
    with pytest.raises(ValueError, match="metrics_password"):
        render.render_all(main_settings, dataclasses.replace(main_secrets, metrics_password=""))


def test_asterisk_leaves_log_rotation_to_the_shipped_logrotate_rules(files: dict[str, str]) -> None:
    logger = confparse.one(confparse.parse(files["logger.conf"]), "general")
    assert logger.get("rotatestrategy") == "none"
    rules = (config.PROJECT_ROOT / "ops" / "logrotate" / "padang112-asterisk").read_text()
    logfiles = confparse.one(confparse.parse(files["logger.conf"]), "logfiles")
    for name in {key for key, _ in logfiles.options} - {"console"}:
        assert f"/var/lib/padang112/asterisk-root/srv/padang112/*/log/{name}" in rules, name
    assert "/srv/padang112/*/log/queue_log" in rules  # no longer written; a file left from before ages out


def test_asterisk_writes_no_queue_log_and_no_notice_lines(files: dict[str, str]) -> None:
    """Both name callers (ENTERQUEUE's caller ID, the From of refused requests): docs/SECURITY.md."""
    logger = confparse.parse(files["logger.conf"])
    assert confparse.one(logger, "general").get("queue_log") == "no"
    levels = dict(confparse.one(logger, "logfiles").options)
    assert levels["messages.log"] == "warning,error" and levels["security.log"] == "security"


def test_pjsip_takes_calls_while_other_parts_of_asterisk_are_backed_up(files: dict[str, str]) -> None:
    """Only PJSIP's own queues may make it ignore new INVITEs (the live proof: test_asterisk_taskprocessors.py)."""
    [pjsip_global] = confparse.by_type(confparse.parse(files["pjsip.conf"]), "global").values()
    assert pjsip_global.get("taskprocessor_overload_trigger") == "pjsip_only"


def test_each_carrier_is_trusted_by_its_address_alone(main_settings: config.Settings, files: dict[str, str]) -> None:
    pjsip = confparse.parse(files["pjsip.conf"])
    endpoints = confparse.by_type(pjsip, "endpoint")
    identifies = {s.get("endpoint"): s for s in confparse.by_type(pjsip, "identify").values()}
    for carrier in main_settings.carriers:
        ep = endpoints[carrier.name]
        assert ep.get("context") == "from-carrier"
        assert ep.get("auth") is None and ep.get("identify_by") == "ip"
        assert (ep.get("direct_media"), ep.get("rtp_symmetric"), ep.get("allow")) == ("no", "yes", "ulaw,alaw")
        assert identifies[carrier.name].all("match") == [carrier.address]
    assert confparse.one(pjsip, "global").get("endpoint_identifier_order") == "ip,username"
    assert "anonymous" not in endpoints
    noload = confparse.one(confparse.parse(files["modules.conf"]), "modules").all("noload")
    assert "res_pjsip_endpoint_identifier_anonymous.so" in noload


def test_every_seat_authenticates_with_its_generated_password(
    main_settings: config.Settings, main_secrets: config.Secrets, files: dict[str, str]
) -> None:
    pjsip = confparse.parse(files["pjsip.conf"])
    endpoints = confparse.by_type(pjsip, "endpoint")
    auths = confparse.by_type(pjsip, "auth")
    aors = confparse.by_type(pjsip, "aor")
    assert len(main_settings.seats) == main_settings.calls.seat_count
    for seat in main_settings.seats:
        ep = endpoints[seat]
        assert (ep.get("context"), ep.get("direct_media")) == ("seats", "no")
        auth = auths[ep.get("auth")]
        assert (auth.get("username"), auth.get("password")) == (seat, main_secrets.seat_passwords[seat])
        assert (aors[seat].get("max_contacts"), aors[seat].get("remove_existing")) == ("1", "yes")
        assert 0 < int(aors[seat].get("qualify_frequency")) <= 10


@pytest.mark.parametrize("context", ["seats", "from-duty"])
def test_seats_and_duty_phones_can_dial_nothing(plan: dict[str, list[confparse.Step]], context: str) -> None:
    assert all((s.app, s.args) == ("Hangup", "21") for s in plan[context]), plan[context]
    assert _reachable(plan, context) == {context}


def test_every_agency_has_a_duty_phone_with_its_own_password(
    main_settings: config.Settings, main_secrets: config.Secrets, files: dict[str, str]
) -> None:
    pjsip = confparse.parse(files["pjsip.conf"])
    endpoints = confparse.by_type(pjsip, "endpoint")
    auths = confparse.by_type(pjsip, "auth")
    assert set(main_settings.duty_phones) == {"damkar", "bpbd", "satpolpp", "dishub", "dinkes", "dlh", "pupr"}
    for endpoint in main_settings.duty_phones.values():
        assert endpoints[endpoint].get("context") == "from-duty"
        auth = auths[endpoints[endpoint].get("auth")]
        assert (auth.get("username"), auth.get("password")) == (endpoint, main_secrets.duty_passwords[endpoint])
    assert len(set(main_secrets.duty_passwords.values())) == len(main_settings.duty_phones)


def test_the_test_instance_does_not_collide_with_main(live_settings: config.Settings, files: dict[str, str]) -> None:
    test_files = render.render_all(live_settings, _secrets(live_settings))

    def ports(f: dict[str, str]) -> dict[str, object]:
        rtp = confparse.one(confparse.parse(f["rtp.conf"]), "general")
        return {
            "sip": next(iter(confparse.by_type(confparse.parse(f["pjsip.conf"]), "transport").values())).get("bind"),
            "http": confparse.one(confparse.parse(f["http.conf"]), "general").get("bindport"),
            "ami": confparse.one(confparse.parse(f["manager.conf"]), "general").get("port"),
            "rtp": range(int(rtp.get("rtpstart")), int(rtp.get("rtpend")) + 1),
            "dirs": {v for k, v in confparse.one(confparse.parse(f["asterisk.conf"]), "directories").options},
        }

    main, test = ports(files), ports(test_files)
    for key in ("sip", "http", "ami"):
        assert main[key] != test[key]
    assert not set(main["rtp"]) & set(test["rtp"])
    assert not main["dirs"] & test["dirs"]
    assert all(d.startswith(f"/srv/padang112/{live_settings.asterisk.instance}/") for d in test["dirs"])


@pytest.mark.parametrize(
    "field,value",
    [
        ("carrier", "telkom\n[evil]"),
        ("address", "127.0.0.1\nmatch=0.0.0.0/0"),
        ("number", "112\nexten => _X.,1,Dial(x)"),
    ],
)
def test_values_that_would_inject_configuration_are_refused(field: str, value: str) -> None:
    settings = config.load(environ={})
    if field == "carrier":
        settings.carriers = [config.Carrier(value, "127.0.0.11")]
    elif field == "address":
        settings.carriers = [config.Carrier("telkom", value)]
    else:
        settings.calls.emergency_numbers = (value,)
    with pytest.raises(ValueError):
        render.render_all(settings, _secrets(settings))


def test_written_configuration_is_not_world_readable(
    tmp_path: Path, main_settings: config.Settings, files: dict[str, str]
) -> None:
    render.write_all(files, tmp_path / "etc")
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "etc").iterdir()}
    assert set(modes) == set(files)
    assert set(modes.values()) == {0o640}
    assert (tmp_path / "etc").stat().st_mode & 0o777 == 0o750


def test_each_caller_notes_who_arrived_just_before_it_under_a_lock(plan: dict[str, list[confparse.Step]]) -> None:
    """The watchdog keeps arrival order by waiting for P112_PREV: it must be exactly the previous caller's channel.
    The caller's watchdog notes it (its first steps, before its loop), not the caller: LOCK() costs a channel ~10 ms
    of autoservice, which the caller's way to the seat must not pay (issue 15)."""
    args = [s.args for s in plan["p112-watchdog"]]
    lock = args.index("P112_LOCKED=${LOCK(p112-arrival)}")
    assert args[lock - 2 : lock] == ["P112_CALLER=PJSIP/${EXTEN}", "P112_SEEN_BRIDGED=0"]
    assert args[lock + 1 : lock + 4] == [
        'P112_PREV=${IF($["${GLOBAL(P112_LAST_ARRIVAL)}" = ""]?none:${GLOBAL(P112_LAST_ARRIVAL)})}',
        "GLOBAL(P112_LAST_ARRIVAL)=${P112_CALLER}",
        "P112_LOCKED=${UNLOCK(p112-arrival)}",
    ]
    assert lock < args.index("1")  # before the first Wait(1)
    emergency = [s.args for s in plan["emergency"]]
    assert not [a for a in emergency if "LOCK(" in a or "P112_LAST_ARRIVAL" in a or a.startswith("P112_PREV")]
    assert [s.args for s in plan["p112-watchdog"] if s.app == "Answer"] == [",i"]  # no 500 ms wait for audio


def test_the_caller_is_answered_without_waiting_for_his_first_audio_frame(
    plan: dict[str, list[confparse.Step]],
) -> None:
    """Answer() waits up to 500 ms for the caller's first frame: a silent caller or a carrier that sends no audio
    before he speaks would wait that long for the seat (issue 15); "i" answers and goes on at once."""
    assert [s.args for s in plan["emergency"] if s.app == "Answer"] == [",i"]
