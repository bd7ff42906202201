import Foundation
import LightFMKit

/// The built-in catalog of `lightfm demo`: a record shop with planted structure.
///
/// Albums belong to one of eight genres and carry a `genre:<name>` feature. Each listener has one
/// or two favourite genres; 85% of their purchases come from those genres (popular albums more
/// often: weights 1/(rank+1)^0.8 within a genre) and 15% from anywhere. A model that finds the
/// structure recommends albums of the listener's genres; a popularity ranking cannot.
struct DemoCatalog {
  struct Album {
    let id: String
    let name: String
    let genre: Int
  }

  struct Listener {
    let id: String
    let favourites: [Int]
  }

  static let genres = [
    "Jazz", "Classical", "Metal", "Hip-hop", "Electronic", "Country", "Reggae", "Folk",
  ]

  /// Two word lists per genre: album names are "<first> <second>".
  static let words: [([String], [String])] = [
    (
      ["Blue", "Smoky", "Midnight", "Modal", "Velvet", "Late", "Cool", "Uptown"],
      ["Quartet", "Standards", "Sessions", "Trumpet", "Swing", "Ballads", "Bop", "Saxophone"]
    ),
    (
      ["Baroque", "Romantic", "Vienna", "Chamber", "Sacred", "Pastoral", "Grand", "Nocturnal"],
      ["Sonatas", "Concertos", "Preludes", "Fugues", "Symphony", "Etudes", "Requiem", "Suites"]
    ),
    (
      ["Iron", "Black", "Thunder", "Steel", "Burning", "Doom", "Savage", "Molten"],
      ["Riffs", "Hammer", "Inferno", "Anthems", "Warpath", "Abyss", "Crusade", "Skulls"]
    ),
    (
      ["Street", "Golden", "Block", "Concrete", "Boom", "Southside", "Hustle", "Crown"],
      ["Rhymes", "Cyphers", "Beats", "Chronicles", "Flow", "Verses", "Tapes", "Dreams"]
    ),
    (
      ["Neon", "Digital", "Pulse", "Analog", "Hyper", "Deep", "Circuit", "Laser"],
      ["Waves", "Grid", "Frequencies", "Signals", "Loops", "Voltage", "Drift", "Synths"]
    ),
    (
      [
        "Dusty", "Honky-tonk", "Whiskey", "Prairie", "Backroad", "Lonesome", "Cowboy", "Tennessee",
      ],
      ["Roads", "Heartache", "Rodeo", "Porch Songs", "Saloon", "Horizons", "Boots", "Hymns"]
    ),
    (
      ["Island", "Roots", "Dub", "Kingston", "Sunsplash", "Rasta", "Tropical", "Trench Town"],
      ["Riddims", "Vibes", "Echoes", "Skank", "Rockers", "Sound System", "Offbeat", "Uprising"]
    ),
    (
      [
        "Wandering", "Highland", "Meadow", "Hearthside", "Hollow", "Old Country", "River", "Misty",
      ],
      ["Ballads", "Fiddles", "Laments", "Reels", "Shanties", "Carols", "Tales", "Airs"]
    ),
  ]

  /// The listeners the demo prints by name, with their planted favourite genres.
  static let named: [(id: String, favourites: [Int])] = [
    ("Ava", [0]),  // Jazz
    ("Ben", [2, 4]),  // Metal + Electronic
    ("Chloe", [5, 7]),  // Country + Folk
    ("Dev", [3]),  // Hip-hop
  ]

  let albums: [Album]
  let listeners: [Listener]
  /// (listener index, album index) purchases, each pair at most once.
  let purchases: [(user: Int, item: Int)]

  init(listeners listenerCount: Int = 2000, albumsPerGenre: Int = 60, seed: UInt64 = 7) {
    var rng = SplitMix64(seed: seed)
    var albums: [Album] = []
    for (g, (first, second)) in Self.words.enumerated() {
      var names: [String] = []
      for a in first { for b in second { names.append("\(a) \(b)") } }
      names.shuffle(using: &rng)
      for n in 0..<albumsPerGenre {
        let volume = n / names.count
        let name = names[n % names.count] + (volume > 0 ? " Vol. \(volume + 1)" : "")
        albums.append(Album(id: "album-\(albums.count + 1)", name: name, genre: g))
      }
    }
    var listeners: [Listener] = Self.named.map { Listener(id: $0.id, favourites: $0.favourites) }
    while listeners.count < listenerCount {
      let first = Int.random(in: 0..<Self.genres.count, using: &rng)
      var favourites = [first]
      if Bool.random(using: &rng) {
        let second =
          (first + Int.random(in: 1..<Self.genres.count, using: &rng)) % Self.genres.count
        favourites.append(second)
      }
      listeners.append(
        Listener(id: String(format: "listener-%04d", listeners.count + 1), favourites: favourites))
    }
    // Popularity within a genre: Zipf-like weights over a fixed shuffled order.
    let weights = (0..<albumsPerGenre).map { 1 / pow(Double($0 + 1), 0.8) }
    var cumulative: [Double] = []
    var total = 0.0
    for w in weights {
      total += w
      cumulative.append(total)
    }
    var purchases: [(Int, Int)] = []
    for (u, listener) in listeners.enumerated() {
      let count = Int.random(in: 12...40, using: &rng)
      var bought = Set<Int>()
      var attempts = 0
      while bought.count < count && attempts < count * 20 {
        attempts += 1
        let item: Int
        if Double.random(in: 0..<1, using: &rng) < 0.85 {
          let genre = listener.favourites.randomElement(using: &rng)!
          let x = Double.random(in: 0..<total, using: &rng)
          let rank = cumulative.firstIndex { $0 > x } ?? (albumsPerGenre - 1)
          item = genre * albumsPerGenre + rank
        } else {
          item = Int.random(in: 0..<albums.count, using: &rng)
        }
        if bought.insert(item).inserted { purchases.append((u, item)) }
      }
    }
    self.albums = albums
    self.listeners = listeners
    self.purchases = purchases
  }
}
