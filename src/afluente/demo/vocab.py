"""Word lists for the synthetic Brazilian shop: names, cities, categories, products.

Hand-picked, embedded so the demo needs neither Faker nor the network. The lists are tuples
so their order (and hence every generated file) is fixed for a seed.
"""

from __future__ import annotations

# fmt: off
FIRST_NAMES: tuple[str, ...] = (
    "Ana", "Maria", "Francisca", "Antônia", "Adriana", "Juliana", "Márcia", "Fernanda",
    "Patrícia", "Aline", "Sandra", "Camila", "Amanda", "Bruna", "Jéssica", "Letícia", "Júlia",
    "Luciana", "Vanessa", "Mariana", "Gabriela", "Beatriz", "Larissa", "Débora", "Cláudia",
    "Renata", "Tatiane", "Helena", "Alice", "Laura", "Valentina", "Sofia", "Isabela", "Manuela",
    "Lívia", "Giovanna", "Cecília", "Lúcia", "Raíssa", "Thaís", "Conceição", "Rosângela",
    "Simone", "Vitória", "Yasmin", "Natália", "Priscila", "José", "João", "Antônio",
    "Francisco", "Carlos", "Paulo", "Pedro", "Lucas", "Luiz", "Marcos", "Luís", "Gabriel",
    "Rafael", "Daniel", "Marcelo", "Bruno", "Eduardo", "Felipe", "Raimundo", "Rodrigo",
    "Manoel", "Mateus", "André", "Fernando", "Fábio", "Leonardo", "Gustavo", "Guilherme",
    "Leandro", "Tiago", "Anderson", "Ricardo", "Márcio", "Jorge", "Sebastião", "Alexandre",
    "Roberto", "Edson", "Diego", "Vítor", "Sérgio", "Cláudio", "Heitor", "Arthur", "Davi",
    "Bernardo", "Théo", "Lorenzo", "Henrique", "Caio", "Otávio", "Joaquim", "Benício", "Inácio",
    "Wellington", "Rogério",
)

SURNAMES: tuple[str, ...] = (
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima",
    "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares",
    "Fernandes", "Vieira", "Barbosa", "Rocha", "Dias", "Nascimento", "Andrade", "Moreira",
    "Nunes", "Marques", "Machado", "Mendes", "Freitas", "Cardoso", "Ramos", "Gonçalves",
    "Santana", "Teixeira", "Araújo", "Mello", "Cavalcanti", "Monteiro", "Moura", "Correia",
    "Pinto", "Batista", "Castro", "Azevedo", "Brandão", "Magalhães", "Conceição", "Assunção",
    "Guimarães", "Peixoto", "Sampaio", "Leão", "Falcão", "Figueiredo", "Bezerra", "Tavares",
    "Campos", "Rezende", "Macedo", "Pires", "Queiroz", "Sá", "Antunes", "Cunha", "Xavier",
    "Farias", "Coelho", "Damasceno", "Brito",
)

# Particles between surnames ("Maria da Silva"): lower-case in a well-formed name.
NAME_PARTICLES: tuple[str, ...] = (
    "", "", "", "", "da ", "de ", "dos ", "do ",
)

# (city, UF, DDD area code)
CITIES: tuple[tuple[str, str, str], ...] = (
    ("São Paulo", "SP", "11"), ("Rio de Janeiro", "RJ", "21"), ("Belo Horizonte", "MG", "31"),
    ("Brasília", "DF", "61"), ("Salvador", "BA", "71"), ("Fortaleza", "CE", "85"),
    ("Curitiba", "PR", "41"), ("Manaus", "AM", "92"), ("Recife", "PE", "81"),
    ("Porto Alegre", "RS", "51"), ("Belém", "PA", "91"), ("Goiânia", "GO", "62"),
    ("Guarulhos", "SP", "11"), ("Campinas", "SP", "19"), ("São Luís", "MA", "98"),
    ("São Gonçalo", "RJ", "21"), ("Maceió", "AL", "82"), ("Duque de Caxias", "RJ", "21"),
    ("Natal", "RN", "84"), ("Teresina", "PI", "86"), ("Campo Grande", "MS", "67"),
    ("São Bernardo do Campo", "SP", "11"), ("João Pessoa", "PB", "83"), ("Osasco", "SP", "11"),
    ("Santo André", "SP", "11"), ("Jaboatão dos Guararapes", "PE", "81"),
    ("Ribeirão Preto", "SP", "16"), ("Uberlândia", "MG", "34"), ("Contagem", "MG", "31"),
    ("Sorocaba", "SP", "15"), ("Aracaju", "SE", "79"), ("Feira de Santana", "BA", "75"),
    ("Cuiabá", "MT", "65"), ("Joinville", "SC", "47"), ("Juiz de Fora", "MG", "32"),
    ("Londrina", "PR", "43"), ("Aparecida de Goiânia", "GO", "62"), ("Niterói", "RJ", "21"),
    ("Porto Velho", "RO", "69"), ("Florianópolis", "SC", "48"), ("Serra", "ES", "27"),
    ("Vila Velha", "ES", "27"), ("Macapá", "AP", "96"), ("Caxias do Sul", "RS", "54"),
    ("São José dos Campos", "SP", "12"), ("Mauá", "SP", "11"), ("Santos", "SP", "13"),
    ("Rio Branco", "AC", "68"), ("Boa Vista", "RR", "95"), ("Palmas", "TO", "63"),
    ("Vitória", "ES", "27"), ("Maringá", "PR", "44"), ("Petrópolis", "RJ", "24"),
    ("Blumenau", "SC", "47"), ("Pelotas", "RS", "53"), ("Anápolis", "GO", "62"),
    ("Campina Grande", "PB", "83"), ("Foz do Iguaçu", "PR", "45"), ("Caruaru", "PE", "81"),
    ("Mossoró", "RN", "84"), ("Petrolina", "PE", "87"), ("Imperatriz", "MA", "99"),
    ("Santarém", "PA", "93"), ("Vitória da Conquista", "BA", "77"), ("Ilhéus", "BA", "73"),
    ("Montes Claros", "MG", "38"), ("Chapecó", "SC", "49"), ("Dourados", "MS", "67"),
)

# Relative weight of each city (same order as CITIES): the big capitals dominate.
CITY_WEIGHTS: tuple[float, ...] = (
    30, 16, 8, 7, 6, 6, 6, 5, 5, 5, 4, 4, 3, 3, 3, 3, 3, 2, 3, 3, 3, 2, 3, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 1, 2, 1, 2, 1, 1, 1, 2, 2, 1, 2, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1,
)

EMAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com", "gmail.com", "gmail.com", "hotmail.com", "hotmail.com", "outlook.com",
    "yahoo.com.br", "uol.com.br", "bol.com.br", "terra.com.br", "icloud.com",
)

# (category, department, product nouns)
CATEGORIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Eletrônicos", "Tecnologia", ("Fone de Ouvido", "Caixa de Som", "Carregador", "Smartwatch")),
    ("Informática", "Tecnologia", ("Notebook", "Mouse", "Teclado", "Monitor", "Pendrive")),
    ("Celulares", "Tecnologia", ("Smartphone", "Capinha", "Película", "Cabo USB-C")),
    ("Eletrodomésticos", "Casa", ("Liquidificador", "Air Fryer", "Micro-ondas", "Cafeteira")),
    ("Cama, Mesa e Banho", "Casa", ("Jogo de Lençol", "Toalha de Banho", "Edredom")),
    ("Móveis", "Casa", ("Cadeira de Escritório", "Mesa de Jantar", "Estante", "Sofá")),
    ("Utilidades Domésticas", "Casa", ("Panela", "Jogo de Talheres", "Garrafa Térmica")),
    ("Beleza e Perfumaria", "Beleza", ("Perfume", "Hidratante", "Shampoo", "Batom")),
    ("Saúde", "Beleza", ("Termômetro", "Vitamina C", "Máscara", "Balança Digital")),
    ("Esporte e Lazer", "Esporte", ("Bola de Futebol", "Tênis de Corrida", "Bicicleta")),
    ("Brinquedos", "Infantil", ("Quebra-Cabeça", "Boneca", "Carrinho", "Jogo de Tabuleiro")),
    ("Bebês", "Infantil", ("Fralda", "Mamadeira", "Carrinho de Bebê", "Chupeta")),
    ("Moda Feminina", "Moda", ("Vestido", "Blusa", "Sandália", "Bolsa")),
    ("Moda Masculina", "Moda", ("Camiseta", "Bermuda", "Tênis", "Jaqueta")),
    ("Relógios e Presentes", "Moda", ("Relógio", "Pulseira", "Carteira", "Óculos de Sol")),
    ("Livros", "Cultura", ("Livro de Romance", "Livro Técnico", "Livro Infantil", "HQ")),
    ("Papelaria", "Cultura", ("Caderno", "Caneta", "Mochila", "Agenda")),
    ("Ferramentas", "Construção", ("Furadeira", "Jogo de Chaves", "Parafusadeira", "Trena")),
    ("Automotivo", "Construção", ("Pneu", "Óleo de Motor", "Som Automotivo", "Tapete")),
    ("Pet Shop", "Casa", ("Ração", "Coleira", "Caminha Pet", "Arranhador")),
    ("Alimentos e Bebidas", "Mercado", ("Café em Grãos", "Azeite", "Chocolate", "Vinho")),
    ("Jardinagem", "Casa", ("Mangueira", "Vaso", "Adubo", "Tesoura de Poda")),
)

# Typical price range per department, in BRL cents (low, high).
DEPARTMENT_PRICES: dict[str, tuple[int, int]] = {
    "Tecnologia": (2_990, 450_000), "Casa": (1_990, 250_000), "Beleza": (990, 45_000),
    "Esporte": (2_990, 180_000), "Infantil": (990, 90_000), "Moda": (1_990, 60_000),
    "Cultura": (490, 25_000), "Construção": (1_490, 120_000), "Mercado": (590, 30_000),
}

BRANDS: tuple[str, ...] = (
    "Aurora", "Tupã", "Ipê", "Jacarandá", "Carioca", "Paulista", "Sertão", "Pampa", "Cerrado",
    "Mandacaru", "Guaraná", "Araucária", "Boto", "Capivara", "Sabiá", "Arara",
)

VARIANTS: tuple[str, ...] = (
    "Preto", "Branco", "Azul", "Vermelho", "Cinza", "Rosa", "Verde", "Bivolt", "110V", "220V",
    "P", "M", "G", "GG", "Premium", "Compacto", "Pro", "Plus", "Kit 2", "Kit 3",
)

SELLER_SUFFIXES: tuple[str, ...] = (
    "Comércio Ltda", "Distribuidora", "Magazine", "Store", "Importados ME", "& Filhos",
    "Atacadista", "Variedades", "Shop", "Eletro", "Presentes", "Outlet",
)

ORDER_CHANNELS: tuple[str, ...] = ("site", "app", "app", "marketplace", "televendas")

PAYMENT_METHODS: tuple[str, ...] = ("pix", "boleto", "credit_card", "debit_card")
# fmt: on
