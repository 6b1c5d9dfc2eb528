import GroveCLI

@main struct Entrypoint { static func main() async { await GroveCommand.main() } }
