import Foundation

/// Messages and progress go to stderr so stdout stays clean for results and `--json`.
func printToStandardError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
