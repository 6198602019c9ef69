//! wecomSend / dingtalkSend / robotSend through the test host of every version, against
//! local emulators of the platforms (expiring tokens, signature checks).
#[path = "common/host.rs"]
mod host;
#[path = "common/platform_emulator.rs"]
mod platform_emulator;

use host::{entry, lit, parse_ok, run, text, VERSIONS};
use platform_emulator::*;

#[test]
fn wecom_group_chat_workflow_with_one_token_in_every_version() {
    for v in VERSIONS {
        let emu = PlatformEmulator::start();
        let cfg = format!("{{\"baseUrl\": {}}}", lit(&emu.base_url()));
        let create = r#"{"name":"NAME","owner":"userid1","userlist":["userid1","userid2"],"chatid":"CHATID"}"#;
        let send = r#"{"chatid":"CHATID","msgtype":"text","text":{"content":"这是一条测试信息"}}"#;
        let lines = run(
            v,
            &format!(
                "httpClient::wecomSend({id}, {secret}, \"appchat/create\", {}, {cfg})\n\
             httpClient::wecomSend({id}, {secret}, \"appchat/send\", {}, {cfg})",
                lit(create),
                lit(send),
                id = lit(WECOM_CORP_ID),
                secret = lit(WECOM_CORP_SECRET),
            ),
        );
        let created = parse_ok(&lines[0]);
        assert_eq!(
            entry(&created, "errcode"),
            ("INT", &serde_json::json!(0)),
            "{v}"
        );
        assert_eq!(text(entry(&created, "chatid").1), "CHATID");
        assert_eq!(entry(&created, "responseCode").1, 200);
        let sent = parse_ok(&lines[1]);
        assert_eq!(text(entry(&sent, "errmsg").1), "ok");
        assert_eq!(
            emu.gettoken_calls(Platform::Wecom),
            1,
            "{v}: one token for both calls"
        );
        let body = emu.last("/cgi-bin/appchat/send").unwrap().body;
        assert_eq!(body, send.as_bytes());
        for l in &lines {
            assert!(!l.contains(WECOM_CORP_SECRET));
        }
    }
}

#[test]
fn dingtalk_signed_robot_and_wrong_secret() {
    let emu = PlatformEmulator::start();
    let cfg = format!("{{\"baseUrl\": {}}}", lit(&emu.base_url()));
    let hook = format!("https://oapi.dingtalk.com/robot/send?access_token={DING_ROBOT_TOKEN}");
    let lines = run("3.00.3", &format!(
        "robotSend(\"dingtalk\", {h}, \"行情延迟告警\", {}, {cfg})\nrobotSend(\"dingtalk\", {h}, \"x\", \"wrong-secret\", {cfg})\nrobotSend(\"pager\", {h}, \"x\")",
        lit(DING_ROBOT_SECRET),
        h = lit(&hook),
    ));
    assert_eq!(entry(&parse_ok(&lines[0]), "errcode").1, 0);
    // a rejected signature is the platform's answer, returned, not thrown
    assert_eq!(entry(&parse_ok(&lines[1]), "errcode").1, 310000);
    assert!(
        lines[2].starts_with("ERR IllegalArgumentException: httpClient::robotSend: kind must be"),
        "{}",
        lines[2]
    );
}
