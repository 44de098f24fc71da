/// A selector's command permissions written back as rules, in Redis's normalised form (its
/// `ACLDescribeSelectorCommandRules`): `+@all` or `-@all` (whether "commands to come" are
/// allowed), then, greedily, the category that best matches what is left while it matches
/// more commands than it gets wrong, then single `+command` / `-command` rules (and
/// `+command|first-arg`) for the differences. Redis lists the single rules in its hash
/// table's order; Atoll lists them in name order.
enum AclCommandRules {
    static func describe(_ selector: AclSelector) -> String {
        let catalog = AclCatalog.shared
        let additive = !selector.commands.contains(catalog.futureBit)
        var rules = additive ? "-@all " : "+@all "
        // `predicted` is what the rules written so far allow; `remaining` the selector with
        // the chosen categories taken back, to count what each candidate would still fix.
        let predicted = AclSelector(allChannels: false)
        try? predicted.apply(Array((additive ? "-@all" : "+@all").utf8))
        let remaining = selector.copy()
        var applied = [Bool](repeating: false, count: AclCatalog.categories.count)
        while true {
            var best = -1, fewestWrong = Int.max, mostRight = 0
            for category in AclCatalog.categories.indices where !applied[category] {
                let (on, off) = count(remaining, category)
                let wrong = additive ? off : on
                let right = additive ? on : off
                if right > wrong && (wrong < fewestWrong || (wrong == fewestWrong && right > mostRight)) {
                    best = category
                    fewestWrong = wrong
                    mostRight = right
                }
            }
            if best < 0 { break }
            predicted.setCategory(best, additive)
            remaining.setCategory(best, !additive)
            rules += (additive ? "+@" : "-@") + AclCatalog.categories[best] + " "
            applied[best] = true
        }
        for id in catalog.topLevel {
            single(id, selector, predicted, &rules)
            for child in catalog.children[id] { single(child, selector, predicted, &rules) }
            if !selector.commands.contains(id), let arguments = selector.firstArgs[id] {
                for argument in arguments { rules += "+" + catalog.names[id] + "|" + String(decoding: argument, as: UTF8.self) + " " }
            }
        }
        rules.removeLast()
        return rules
    }

    /// A `+name` or `-name` rule when the prediction differs from the selector for `id`.
    private static func single(_ id: Int, _ selector: AclSelector, _ predicted: AclSelector, _ rules: inout String) {
        let allowed = selector.commands.contains(id)
        guard allowed != predicted.commands.contains(id) else { return }
        rules += (allowed ? "+" : "-") + AclCatalog.shared.names[id] + " "
        predicted.changePermission(id, allowed)
    }

    /// How many commands (and subcommands) of `category` the selector allows and denies.
    private static func count(_ selector: AclSelector, _ category: Int) -> (on: Int, off: Int) {
        let catalog = AclCatalog.shared
        let bit = UInt32(1) << UInt32(category)
        var on = 0, off = 0
        catalog.forEachCommand { id in
            guard catalog.categoryMasks[id] & bit != 0 else { return }
            if selector.commands.contains(id) { on += 1 } else { off += 1 }
        }
        return (on, off)
    }
}
