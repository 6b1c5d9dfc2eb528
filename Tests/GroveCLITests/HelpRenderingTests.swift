import ArgumentParser
import Testing

@testable import GroveCLI

/// Every `--help` reads as wrapped paragraphs at any width: the text is written as paragraphs and
/// swift-argument-parser wraps it, so no line break is written by hand inside a paragraph and no
/// line is wider than the screen.
@Suite("help at 80 and 120 columns")
struct HelpRenderingTests {
    static let widths = [80, 120]

    /// grove and each of its subcommands, by name.
    static let commands: [(String, any ParsableCommand.Type)] =
        [("grove", GroveCommand.self)] + GroveCommand.configuration.subcommands.map { ($0._commandName, $0) }

    static func help(_ command: any ParsableCommand.Type, columns: Int) -> String {
        command == GroveCommand.self
            ? GroveCommand.helpMessage(columns: columns) : GroveCommand.helpMessage(for: command, columns: columns)
    }

    /// Where `help` breaks the rule, one description per problem. The rule, for lines B and C one
    /// after the other, both not blank:
    /// - no line is wider than `columns`;
    /// - B is ragged when C has the same indentation, C is not a list item or an option row (its
    ///   text starts with `-` or `<`, or holds a gap of two spaces as label columns do), and C's
    ///   first word would have fit on B with a space before it and a column to spare
    ///   (`B + " " + word` shorter than `columns`). swift-argument-parser fills each line before
    ///   it breaks, so only a line break written inside a paragraph leaves such room.
    /// The USAGE block is a synopsis laid out by hand (swift-argument-parser does not wrap a
    /// given usage), so only its width is checked.
    static func problems(in help: String, columns: Int) -> [String] {
        let lines = help.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var problems: [String] = []
        var inUsage = false
        for (index, line) in lines.enumerated() {
            if line.count > columns { problems.append("wider than \(columns): \"\(line)\"") }
            if line.hasPrefix("USAGE: ") { inUsage = true }
            if line.isEmpty { inUsage = false }
            guard index + 1 < lines.count, !inUsage else { continue }
            let next = lines[index + 1]
            let text = next.drop { $0 == " " }
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty, !text.isEmpty else { continue }
            guard indentation(line) == indentation(next), !isItem(text) else { continue }
            let word = text.prefix { $0 != " " }
            if line.count + 1 + word.count < columns {
                problems.append("broken by hand before \"\(word)\": \"\(line)\"")
            }
        }
        return problems
    }

    private static func indentation(_ line: String) -> Int { line.prefix { $0 == " " }.count }

    private static func isItem(_ text: Substring) -> Bool {
        text.hasPrefix("-") || text.hasPrefix("<") || text.contains("  ")
    }

    @Test(arguments: widths)
    func everyHelpIsWrappedParagraphs(columns: Int) {
        for (name, command) in Self.commands {
            let help = Self.help(command, columns: columns)
            #expect(!help.isEmpty)
            let problems = Self.problems(in: help, columns: columns)
            #expect(
                problems.isEmpty, "grove \(name) --help at \(columns) columns:\n\(problems.joined(separator: "\n"))")
        }
    }

    /// The rule itself: it finds the hand-made break of the old top-level help, and passes the
    /// same text as one paragraph wrapped by swift-argument-parser, and option rows.
    @Test func theRuleTellsAHandMadeBreakFromWrapping() {
        let handMade = """
            Exit status: 0 all went well; 1 some task or landing failed; 2 bad input or
            usage,
            nothing changed; 3 another grove holds the repository's lock; 130 interrupted.
            """
        #expect(Self.problems(in: handMade, columns: 80).count == 1)
        let narrow = """
            Exit status: 0 all went well; 1 some task or landing failed; 2 bad input or usage,
            nothing changed; 3 another grove holds the repository's lock; 130 interrupted.
            """
        #expect(Self.problems(in: narrow, columns: 80).count == 1)  // 83 columns wide
        #expect(Self.problems(in: narrow, columns: 120).count == 1)  // "nothing" fits on the first line
        let options = """
            OPTIONS:
              --fail-fast             Cancel the other tasks at the first failure.
              --json                  Newline-delimited JSON events on stdout instead of the
                                      display and summary.
              -h, --help              Show help information.
            """
        #expect(Self.problems(in: options, columns: 80).isEmpty)
        #expect(Self.problems(in: Self.help(Run.self, columns: 80), columns: 80).isEmpty)
    }
}
