// CYaml is Yams's own copy of libyaml (a target of the Yams package, linked with it). Its event
// parser is the only way to see anchors and aliases before Yams composes them into nodes.
import CYaml

/// A pass over the task file's YAML events, before Yams builds nodes, that refuses an alias
/// bomb ("billion laughs"): Yams shares an aliased node rather than copying it, but hashing a
/// mapping key and walking the tree both visit every expansion, so ten nested aliases of ten
/// can cost 10^10 steps. A task file has no use for that many nodes.
enum YAMLShape {
    /// How many nodes aliases may add to a file beyond those written out in it.
    static let aliasBudget = 100_000

    /// Throws, located at the alias that crosses the budget, when aliases expand the file past
    /// `aliasBudget` extra nodes. Syntax errors are left to Yams, which reports them better.
    static func checkAliases(_ text: String, path: String) throws(PlanError) {
        var bytes = Array(text.utf8)
        if bytes.isEmpty { return }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return }
        defer { yaml_parser_delete(&parser) }
        var problem: PlanError?
        bytes.withUnsafeMutableBufferPointer { buffer in
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            problem = walk(&parser, path: path)
        }
        if let problem { throw problem }
    }

    /// Expanded sizes bottom-up: a scalar is 1, a collection 1 + its items, an alias the size of
    /// its anchor's node.
    private static func walk(_ parser: inout yaml_parser_t, path: String) -> PlanError? {
        var sizes: [String: Int] = [:]
        // Open collections: their anchor and their size so far.
        var open: [(anchor: String?, size: Int)] = []
        var extra = 0
        var event = yaml_event_t()
        while true {
            guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
            defer { yaml_event_delete(&event) }
            var finished: (anchor: String?, size: Int)?
            switch event.type {
            case YAML_STREAM_END_EVENT: return nil
            case YAML_SCALAR_EVENT: finished = (string(event.data.scalar.anchor), 1)
            case YAML_SEQUENCE_START_EVENT: open.append((string(event.data.sequence_start.anchor), 1))
            case YAML_MAPPING_START_EVENT: open.append((string(event.data.mapping_start.anchor), 1))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT: finished = open.popLast()
            case YAML_ALIAS_EVENT:
                let name = string(event.data.alias.anchor) ?? ""
                let size = sizes[name] ?? 1
                extra += size - 1
                if extra > aliasBudget {
                    let mark = event.start_mark
                    return PlanError(
                        .file(path: path, line: Int(mark.line) + 1, column: Int(mark.column) + 1),
                        "alias *\(name) expands the file past \(aliasBudget) more nodes than it spells out"
                            + " (an alias bomb?); write the values out or use fewer nested aliases")
                }
                finished = (nil, size)
            default: continue
            }
            guard let finished else { continue }
            if let anchor = finished.anchor { sizes[anchor] = finished.size }
            if !open.isEmpty { open[open.count - 1].size += finished.size }
        }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
    }
}
