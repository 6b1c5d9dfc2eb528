import Foundation
import GroveCore
import TestSupport
import Testing

/// `--pr-command`'s placeholders: each becomes a quoted reference to a `GROVE_PR_*` variable for
/// the quoting context it stands in, so task data is never parsed by the shell; checked by
/// text and by running the result under /bin/sh with hostile values.
@Suite("push: PR command placeholders")
struct PushPullRequestCommandTests {
    private func expand(_ template: String) -> String {
        PullRequestCommand(template).shellCommand
    }

    @Test func outsideQuotesAPlaceholderBecomesADoubleQuotedVariable() {
        #expect(expand("gh pr create --title {title}") == #"gh pr create --title "${GROVE_PR_TITLE}""#)
        #expect(expand("--head={branch}") == #"--head="${GROVE_PR_BRANCH}""#)
        #expect(
            expand("x {branch} {base} {title} {body} {repo} {task}")
                == #"x "${GROVE_PR_BRANCH}" "${GROVE_PR_BASE}" "${GROVE_PR_TITLE}" "${GROVE_PR_BODY}""#
                + #" "${GROVE_PR_REPO}" "${GROVE_PR_TASK}""#)
    }

    @Test func insideDoubleQuotesTheVariableIsBare() {
        #expect(expand(#"echo "PR: {title} ({task})""#) == #"echo "PR: ${GROVE_PR_TITLE} (${GROVE_PR_TASK})""#)
        // An escaped quote does not end the double-quoted string.
        #expect(expand(#"echo "a\"{task}\"b""#) == #"echo "a\"${GROVE_PR_TASK}\"b""#)
        // An escaped backslash is one character: the placeholder after it still counts.
        #expect(expand(#"echo "a\\{task}""#) == #"echo "a\\${GROVE_PR_TASK}""#)
    }

    @Test func insideSingleQuotesTheQuoteIsClosedAndReopened() {
        #expect(expand("echo 'PR: {title}!'") == #"echo 'PR: '"${GROVE_PR_TITLE}"'!'"#)
        // A backslash means nothing inside single quotes.
        #expect(expand(#"echo '\{task}'"#) == #"echo '\'"${GROVE_PR_TASK}"''"#)
        // Quotes of one kind inside the other do not change the context.
        #expect(expand(#"echo "it's {task}""#) == #"echo "it's ${GROVE_PR_TASK}""#)
        #expect(expand(#"echo 'say "{task}"'"#) == #"echo 'say "'"${GROVE_PR_TASK}"'"'"#)
    }

    @Test func escapedUnknownAndShellBracesStayAsWritten() {
        #expect(expand(#"echo \{title} {title"#) == #"echo \{title} {title"#)
        #expect(expand("echo {Title} {tasks} {} {run}") == "echo {Title} {tasks} {} {run}")
        #expect(expand("echo ${title} ${HOME}") == "echo ${title} ${HOME}")
        #expect(expand("a && b | c; {task}") == #"a && b | c; "${GROVE_PR_TASK}""#)
    }

    /// Whatever the values hold, the shell sees them as text: every placeholder arrives as one
    /// argument, exactly, and nothing in them runs.
    @Test func hostileValuesArriveIntactAndRunNothing() async throws {
        let sandbox = try Sandbox()
        let values = PullRequestCommand.Values(
            branch: #"grove/1/$(touch$IFS"canary")"#, base: "main\n; touch canary", title: #""; rm -rf ~ #"#,
            body: sandbox.child("it's a \"body\".md"), repo: "`touch canary`", task: "a-b.c_d")
        let command = PullRequestCommand(
            #"printf '%s\n' {title} "{branch}" '{repo}' x{base}y "<{body}>" 'a{task}b' > out.txt;"#
                + " echo created https://example.test/pr/7.")
        let log = sandbox.child("pr.log")
        let outcome = await command.run(values: values, run: 1, in: sandbox.path, log: log)
        #expect(outcome.exitCode == 0)
        #expect(outcome.url == "https://example.test/pr/7")
        #expect(outcome.log == log)
        let printed = try String(contentsOfFile: sandbox.child("out.txt"), encoding: .utf8)
        #expect(
            printed
                == [
                    values.title, values.branch, values.repo, "x\(values.base)y", "<\(values.body)>", "aa-b.c_db",
                ].map { $0 + "\n" }.joined())
        #expect(!FileManager.default.fileExists(atPath: sandbox.child("canary")))
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "created https://example.test/pr/7.\n")
    }

    @Test func aFailingCommandReportsItsExitAndStillItsURL() async throws {
        let sandbox = try Sandbox()
        let values = PullRequestCommand.Values(
            branch: "b", base: "main", title: "t", body: "/dev/null", repo: sandbox.path, task: "t")
        let log = sandbox.child("pr.log")
        try "old output https://old.example/1\n".write(toFile: log, atomically: true, encoding: .utf8)
        let failed = await PullRequestCommand("echo see https://example.test/x; exit 3").run(
            values: values, run: 1, in: sandbox.path, log: log)
        #expect(failed.exitCode == 3)
        #expect(!failed.succeeded)
        #expect(failed.url == "https://example.test/x")
        // Each attempt replaces the log: an earlier attempt's URL is never taken for this one's.
        let quiet = await PullRequestCommand("true").run(values: values, run: 1, in: sandbox.path, log: log)
        #expect(quiet.exitCode == 0)
        #expect(quiet.url == nil)
        // The command runs in the directory given, with the GROVE_PR_* variables set.
        let environment = await PullRequestCommand(#"echo "$PWD $GROVE_PR_TASK $GROVE_PR_BASE""#).run(
            values: values, run: 1, in: sandbox.path, log: log)
        #expect(environment.exitCode == 0)
        let output = try String(contentsOfFile: log, encoding: .utf8)
        #expect(output == "\(URL(fileURLWithPath: sandbox.path).resolvingSymlinksInPath().path) t main\n")
    }

    @Test func theURLIsTheLastHTTPTokenOfTheOutput() {
        #expect(
            PullRequestCommand.lastURL(in: ["Creating pull request…", "https://github.com/o/r/pull/12"])
                == "https://github.com/o/r/pull/12")
        #expect(
            PullRequestCommand.lastURL(in: ["first http://a.example/1 then (https://b.example/2).", "done"])
                == "https://b.example/2")
        #expect(PullRequestCommand.lastURL(in: ["\u{1B}[32mhttps://c.example/3\u{1B}[0m"]) == "https://c.example/3")
        #expect(
            PullRequestCommand.lastURL(in: ["url=https://user:secret@host.example/p"]) == "https://***@host.example/p")
        #expect(PullRequestCommand.lastURL(in: ["no link here", "https://", "ftp://x"]) == nil)
        #expect(PullRequestCommand.lastURL(in: []) == nil)
    }
}
