import GroveCore
import Testing

@Suite("grove home")
struct GroveHomeTests {
    @Test func followsTheDesignOrder() throws {
        let all = ["GROVE_HOME": "/g", "XDG_DATA_HOME": "/x", "HOME": "/h"]
        #expect(try GroveHome.resolve(environment: all).path == "/g")
        #expect(try GroveHome.resolve(environment: ["XDG_DATA_HOME": "/x", "HOME": "/h"]).path == "/x/grove")
        #expect(try GroveHome.resolve(environment: ["HOME": "/h"]).path == "/h/.local/share/grove")
        #expect(throws: GroveHomeError.noHome) { try GroveHome.resolve(environment: [:]) }
        let home = GroveHome(path: "/g")
        #expect(home.database == "/g/grove.sqlite")
        #expect(home.worktrees == "/g/worktrees")
        #expect(home.logs == "/g/logs")
        #expect(home.repositories == "/g/repos")
    }
}
